-- expect: rename-table-or-column
ALTER TABLE events RENAME TO account_events;

-- expect: rename-table-or-column
RENAME TABLE events TO account_events;

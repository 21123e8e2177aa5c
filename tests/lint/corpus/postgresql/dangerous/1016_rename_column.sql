-- expect: rename-table-or-column
ALTER TABLE accounts RENAME COLUMN name TO full_name;

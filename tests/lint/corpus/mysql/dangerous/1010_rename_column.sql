-- expect: rename-table-or-column
ALTER TABLE accounts CHANGE name full_name VARCHAR(100), ALGORITHM=INSTANT;

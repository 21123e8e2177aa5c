-- expect: drop-table-or-column
ALTER TABLE accounts DROP COLUMN plan, ALGORITHM=INSTANT;

-- expect:
-- uno:allow drop-table-or-column because no release reads plan any more
ALTER TABLE accounts DROP COLUMN plan, ALGORITHM=INSTANT;

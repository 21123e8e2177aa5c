-- expect:
-- The release before this one stopped reading accounts.plan.
-- uno:allow drop-table-or-column because no release reads plan any more
-- squawk-ignore ban-drop-column
ALTER TABLE accounts DROP COLUMN plan;

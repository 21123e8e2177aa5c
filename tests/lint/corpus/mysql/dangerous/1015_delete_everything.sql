-- expect: delete-without-where
DELETE FROM account_events;

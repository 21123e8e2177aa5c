-- expect:
UPDATE accounts SET bio = '' WHERE bio IS NULL LIMIT 1000;
DELETE FROM events WHERE account_id IS NULL LIMIT 1000;

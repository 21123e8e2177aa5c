-- expect: update-without-where
UPDATE accounts SET created_at = now();

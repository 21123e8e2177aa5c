-- expect: update-without-where
UPDATE accounts SET bio = NULL;

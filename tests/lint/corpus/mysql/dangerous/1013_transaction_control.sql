-- expect: transaction-control transaction-control
START TRANSACTION;
UPDATE accounts SET bio = '' WHERE bio IS NULL;
COMMIT;

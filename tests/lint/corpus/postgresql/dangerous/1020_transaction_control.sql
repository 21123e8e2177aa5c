-- expect: transaction-control transaction-control
BEGIN;
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
COMMIT;

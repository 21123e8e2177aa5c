-- expect: index-not-concurrent
DROP INDEX orders_account_id;

-- expect:
DROP INDEX orders_account_id ON orders;

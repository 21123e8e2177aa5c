-- expect: concurrently-in-transaction
CREATE INDEX CONCURRENTLY accounts_name ON accounts (name);

-- expect: lock-not-none
CREATE INDEX accounts_name ON accounts (name);

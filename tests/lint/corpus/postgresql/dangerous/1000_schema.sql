-- expect:
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email text,
    name text,
    plan text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_created_at ON accounts (created_at);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    account_id bigint REFERENCES accounts (id),
    total numeric(10, 2) CHECK (total >= 0),
    note varchar(50)
);
CREATE INDEX orders_account_id ON orders (account_id);
CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint, payload text);
CREATE TABLE audit (id bigint NOT NULL, message text);

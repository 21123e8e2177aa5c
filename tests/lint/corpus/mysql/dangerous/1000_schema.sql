-- expect:
CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    email VARCHAR(100),
    name VARCHAR(100),
    plan VARCHAR(20),
    bio TEXT
) ENGINE=InnoDB;
CREATE TABLE orders (id BIGINT PRIMARY KEY, account_id BIGINT, total DECIMAL(10, 2)) ENGINE=InnoDB;
CREATE INDEX orders_account_id ON orders (account_id);
CREATE TABLE events (id BIGINT PRIMARY KEY, account_id BIGINT, payload TEXT) ENGINE=InnoDB;

-- expect: index-not-concurrent
CREATE INDEX accounts_email ON accounts (email);

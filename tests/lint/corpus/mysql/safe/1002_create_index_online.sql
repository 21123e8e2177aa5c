-- expect:
CREATE INDEX accounts_name ON accounts (name) ALGORITHM=INPLACE LOCK=NONE;

-- expect:
ALTER TABLE accounts ADD INDEX accounts_email (email), ALGORITHM=INPLACE, LOCK=NONE;

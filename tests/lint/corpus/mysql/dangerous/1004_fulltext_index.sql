-- expect: lock-not-none
ALTER TABLE accounts ADD FULLTEXT INDEX accounts_bio (bio), ALGORITHM=INPLACE, LOCK=SHARED;

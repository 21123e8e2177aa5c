-- expect: lock-not-none
ALTER TABLE accounts ADD INDEX accounts_email (email);

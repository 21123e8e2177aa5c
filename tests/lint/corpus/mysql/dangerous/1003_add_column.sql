-- expect: lock-not-none
ALTER TABLE accounts ADD COLUMN country VARCHAR(2);

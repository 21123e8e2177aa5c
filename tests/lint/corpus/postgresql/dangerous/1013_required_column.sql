-- expect: required-column
ALTER TABLE accounts ADD COLUMN country text NOT NULL;

-- expect:
ALTER TABLE accounts ADD COLUMN full_name text;

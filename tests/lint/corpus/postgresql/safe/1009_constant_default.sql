-- expect:
ALTER TABLE accounts ADD COLUMN country text NOT NULL DEFAULT 'NL';

-- expect: set-not-null
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;

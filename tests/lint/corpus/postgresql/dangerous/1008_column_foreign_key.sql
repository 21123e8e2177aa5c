-- expect: constraint-not-valid
ALTER TABLE audit ADD COLUMN account_id bigint REFERENCES accounts (id);

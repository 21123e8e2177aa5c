-- expect: add-column-rewrite
ALTER TABLE accounts ADD COLUMN api_token uuid DEFAULT gen_random_uuid();

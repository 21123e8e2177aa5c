-- expect: add-column-rewrite
ALTER TABLE audit ADD COLUMN seq bigserial;

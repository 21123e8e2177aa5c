-- expect: column-type-rewrite
ALTER TABLE orders ALTER COLUMN total TYPE bigint;

-- expect: table-copy
ALTER TABLE orders MODIFY total BIGINT;

-- expect: table-copy
ALTER TABLE orders ADD COLUMN note VARCHAR(200), ALGORITHM=COPY;

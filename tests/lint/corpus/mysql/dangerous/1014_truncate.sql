-- expect: truncate
TRUNCATE TABLE orders;

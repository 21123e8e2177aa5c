-- expect:
UPDATE accounts SET full_name = name WHERE id BETWEEN 1 AND 10000 AND full_name IS NULL;

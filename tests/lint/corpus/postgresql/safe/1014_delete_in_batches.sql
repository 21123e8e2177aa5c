-- expect:
DELETE FROM events WHERE id IN (SELECT id FROM events WHERE payload IS NULL LIMIT 1000);

-- expect:
-- Transactional: false
DROP INDEX CONCURRENTLY IF EXISTS orders_account_id;

-- expect:
-- Transactional: false
REINDEX INDEX CONCURRENTLY accounts_created_at;

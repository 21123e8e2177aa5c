-- expect:
-- Transactional: false
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);

-- expect: index-not-concurrent
REINDEX INDEX accounts_created_at;

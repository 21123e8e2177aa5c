-- Migration: Create authors
-- Description: People who write posts (SQLite variant).

CREATE TABLE authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO authors (name, email) VALUES
    ('Ada Lovelace', '  Ada@Example.COM '),
    ('Grace Hopper', 'grace@example.com');

-- DOWN

DROP TABLE authors;

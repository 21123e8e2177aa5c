-- Migration: Create authors
-- Description: People who write posts (MySQL/MariaDB variant).

CREATE TABLE authors (
    id INTEGER AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);

INSERT INTO authors (name, email) VALUES
    ('Ada Lovelace', '  Ada@Example.COM '),
    ('Grace Hopper', 'grace@example.com');

-- DOWN

DROP TABLE authors;

-- Migration: Create posts
-- Description: Posts with their author; portable SQL, one file for every engine.
-- Dependencies: 1700000000_create_authors
-- Tags: content

CREATE TABLE posts (
    id INTEGER NOT NULL PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    title VARCHAR(200) NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX idx_posts_author_id ON posts (author_id);

-- Semicolons inside literals do not split statements: 'a; b'.
INSERT INTO posts (id, author_id, title, body) VALUES
    (1, 1, 'Notes on the Analytical Engine', 'It weaves algebraic patterns; just as the loom weaves flowers.'),
    (2, 2, 'Debugging: a Moth''s Tale', 'First actual case of bug being found.');

-- DOWN

DROP TABLE posts;

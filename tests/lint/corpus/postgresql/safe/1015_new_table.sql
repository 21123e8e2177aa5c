-- expect:
CREATE TABLE imports (id bigint PRIMARY KEY, source text);
CREATE INDEX imports_source ON imports (source);
ALTER TABLE imports ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE imports ADD COLUMN kind text NOT NULL;
ALTER TABLE imports RENAME COLUMN source TO origin;
ALTER TABLE imports ADD CONSTRAINT imports_origin_key UNIQUE (origin);

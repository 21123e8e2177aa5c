-- expect:
CREATE TABLE imports (id BIGINT PRIMARY KEY, source VARCHAR(100)) ENGINE=InnoDB;
ALTER TABLE imports ADD INDEX imports_source (source);
ALTER TABLE imports MODIFY source VARCHAR(200);
ALTER TABLE imports CHANGE source origin VARCHAR(200);
TRUNCATE TABLE imports;

-- expect: table-copy
ALTER TABLE events DROP PRIMARY KEY;

-- expect: table-copy
ALTER TABLE accounts CONVERT TO CHARACTER SET latin1;

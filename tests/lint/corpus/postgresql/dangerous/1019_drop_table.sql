-- expect: drop-table-or-column
DROP TABLE audit;

-- expect: unique-constraint
ALTER TABLE audit ADD PRIMARY KEY (id);

-- expect: syntax-error
CREATE INDX accounts_created ON accounts (created_at);

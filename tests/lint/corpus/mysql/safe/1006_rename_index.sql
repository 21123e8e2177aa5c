-- expect:
ALTER TABLE accounts RENAME INDEX accounts_email TO accounts_email_idx;

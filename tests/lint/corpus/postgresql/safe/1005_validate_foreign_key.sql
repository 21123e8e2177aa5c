-- expect:
ALTER TABLE events VALIDATE CONSTRAINT events_account_id_fkey;

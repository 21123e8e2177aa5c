-- expect: constraint-not-valid
ALTER TABLE events ADD CONSTRAINT events_payload_set CHECK (payload <> '') NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_payload_set;

-- expect: constraint-not-valid
ALTER TABLE audit ADD CONSTRAINT audit_message_short CHECK (length(message) < 1000);

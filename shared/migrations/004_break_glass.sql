-- Break-glass overrides are kept beside consent decisions: time-limited permits, marked.
ALTER TABLE consent_decisions ADD COLUMN override boolean NOT NULL DEFAULT false;

-- A requester's overrides are counted by when each was asked for (not when it was read), so a
-- database rebuilt from the log counts them as they were counted.
ALTER TABLE consent_decisions ADD COLUMN requested_at timestamptz;
DROP INDEX consent_overrides_by_requester;
CREATE INDEX consent_overrides_by_requester ON consent_decisions (requested_by, requested_at) WHERE override;

-- Break glass: who asked (a member of staff has a few overrides a day), and when an override's
-- window was ended here, its recipient's copies of what it opened made unreadable.
ALTER TABLE consent_decisions ADD COLUMN requested_by text;
ALTER TABLE consent_decisions ADD COLUMN override_ended_at timestamptz;
CREATE INDEX consent_overrides_by_requester ON consent_decisions (requested_by, recorded_at) WHERE override;
CREATE INDEX consent_overrides_running ON consent_decisions (valid_until) WHERE override AND override_ended_at IS NULL;

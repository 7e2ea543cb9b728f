-- Consent decisions carry a purpose and a period, can ask that a person is not told, and can be withdrawn.
ALTER TABLE consent_decisions ADD COLUMN purpose text;
ALTER TABLE consent_decisions ADD COLUMN valid_from timestamptz;
ALTER TABLE consent_decisions ADD COLUMN valid_until timestamptz;
ALTER TABLE consent_decisions ADD COLUMN do_not_tell boolean NOT NULL DEFAULT false;
ALTER TABLE consent_decisions ADD COLUMN withdrawn_at timestamptz;

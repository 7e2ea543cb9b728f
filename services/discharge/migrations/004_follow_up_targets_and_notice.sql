-- Each follow-up clock keeps its own due time (48 hours with a risk of suicide, else the Trust's
-- standard); clocks started before were 72 hours. The gate's notice rule needs the patient's wish
-- to end sooner; the clock at closing needs the risk of suicide.
ALTER TABLE followups ADD COLUMN due_by timestamptz;
UPDATE followups SET due_by = discharged_at + interval '72 hours' WHERE due_by IS NULL;
ALTER TABLE followups ALTER COLUMN due_by SET NOT NULL;
DROP INDEX followups_open;
CREATE INDEX followups_open ON followups (due_by) WHERE contacted_at IS NULL AND breached_at IS NULL;
ALTER TABLE episodes ADD COLUMN patient_asked_to_end_sooner boolean NOT NULL DEFAULT false;
ALTER TABLE episodes ADD COLUMN suicide_risk_identified boolean NOT NULL DEFAULT false;

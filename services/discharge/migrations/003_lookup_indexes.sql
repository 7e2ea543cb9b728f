-- Lookups made per event or per sweep, indexed so that their cost does not grow with the number
-- of episodes and follow-ups held (without them each one read the whole table).
CREATE INDEX episodes_discharged_by_patient ON episodes (patient_id, closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX episodes_awaiting_review ON episodes (opened_at) WHERE closed_at IS NULL AND review_due_at IS NULL;
CREATE INDEX followups_open_by_patient ON followups (patient_id) WHERE contacted_at IS NULL;

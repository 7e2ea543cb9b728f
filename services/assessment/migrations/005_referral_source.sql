-- Where the referral came from: a patient referred by an inpatient ward is stepping down from
-- it, and home treatment sees them at home the same day (AssessmentCompleted.step_down).
ALTER TABLE episodes ADD COLUMN referral_source text;

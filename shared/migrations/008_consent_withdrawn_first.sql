-- A withdrawal consumed before the decision it withdraws (consent events may be re-sent or
-- arrive by another route) is kept, so the decision is withdrawn the moment it arrives.
CREATE TABLE consent_withdrawn_first (
    consent_id   uuid        PRIMARY KEY,
    patient_id   uuid        NOT NULL,
    withdrawn_at timestamptz NOT NULL
);

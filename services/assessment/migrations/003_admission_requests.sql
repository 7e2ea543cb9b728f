-- Escalations asking for admission: recorded as gatekeeping decisions awaiting HTCR's assessment.
CREATE TABLE admission_requests (
    visit_id     uuid PRIMARY KEY,             -- the visit whose outcome raised it
    patient_id   uuid        NOT NULL,
    episode_id   uuid        NOT NULL,
    reasons      text[]      NOT NULL,
    requested_at timestamptz NOT NULL,
    status       text        NOT NULL DEFAULT 'awaiting-gatekeeping'
);

CREATE TABLE episodes (
    episode_id  uuid PRIMARY KEY,
    patient_id  uuid        NOT NULL,
    accepted_at timestamptz NOT NULL,
    assess_by   timestamptz NOT NULL
);

CREATE TABLE assessments (
    assessment_id  uuid PRIMARY KEY,
    patient_id     uuid        NOT NULL,
    episode_id     uuid        NOT NULL,
    outcome        text        NOT NULL,
    outcome_reason text        NOT NULL,   -- clinical text: stays in this database
    assessed_by    text        NOT NULL,
    assessed_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX assessments_by_patient ON assessments (patient_id, assessed_at);

-- The assessment follows the patient: versions per patient (each holds only the sections it
-- changed), the teams currently caring for the patient, and gatekeeping of admissions.

ALTER TABLE episodes ADD COLUMN trust text;
ALTER TABLE episodes ADD COLUMN started_at timestamptz;

ALTER TABLE assessments ADD COLUMN htcr_assessed_in_person boolean NOT NULL DEFAULT true;
ALTER TABLE assessments ADD COLUMN not_in_person_reason text;   -- gatekeeping audit

CREATE TABLE assessment_versions (
    patient_id  uuid        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    episode_id  uuid        NOT NULL,
    source_id   uuid        NOT NULL UNIQUE,  -- the assessment or update that made it
    sections    jsonb       NOT NULL,         -- only the sections this version changed
    recorded_by text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (patient_id, version)
);

CREATE TABLE care_teams (
    patient_id uuid        NOT NULL,
    team       text        NOT NULL,
    episode_id uuid        NOT NULL,
    joined_at  timestamptz NOT NULL,
    left_at    timestamptz
);
CREATE UNIQUE INDEX one_membership_per_team ON care_teams (patient_id, team) WHERE left_at IS NULL;

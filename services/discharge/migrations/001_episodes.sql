CREATE TABLE episodes (
    episode_id       uuid PRIMARY KEY,
    patient_id       uuid        NOT NULL,
    opened_at        timestamptz NOT NULL,
    visits_completed integer     NOT NULL DEFAULT 0,
    closed_at        timestamptz,
    decided_by       text,
    discharge_reason text          -- clinical text: stays in this database
);

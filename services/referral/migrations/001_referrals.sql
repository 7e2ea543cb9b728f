CREATE TABLE patients (
    patient_id  uuid PRIMARY KEY,
    hc_lookup   bytea       NOT NULL UNIQUE,   -- keyed hash of the H&C number: finds a known patient
    hc_number   text        NOT NULL,          -- identifying details live only in this database
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE episodes (
    episode_id  uuid PRIMARY KEY,
    patient_id  uuid        NOT NULL REFERENCES patients,
    trust       text        NOT NULL,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE UNIQUE INDEX one_open_episode_per_patient ON episodes (patient_id) WHERE closed_at IS NULL;

CREATE TABLE referrals (
    trust        text        NOT NULL,
    referral_id  text        NOT NULL,
    patient_id   uuid        NOT NULL REFERENCES patients,
    episode_id   uuid        REFERENCES episodes,
    source       text        NOT NULL,
    urgency      smallint    NOT NULL,
    submitted_at timestamptz NOT NULL,
    decision     text        NOT NULL CHECK (decision IN ('accepted', 'linked', 'redirected')),
    decided_at   timestamptz NOT NULL,
    assess_by    timestamptz,
    PRIMARY KEY (trust, referral_id)
);

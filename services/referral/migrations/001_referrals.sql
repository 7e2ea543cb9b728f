CREATE TABLE patients (
    patient_id  uuid PRIMARY KEY,
    hc_lookup   bytea       NOT NULL UNIQUE,   -- keyed hash of the H&C number: finds a known patient
    identity    bytea       NOT NULL,          -- H&C number, name, date of birth: AES-GCM sealed
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
    trust                 text        NOT NULL,
    referral_id           text        NOT NULL,
    patient_id            uuid        NOT NULL REFERENCES patients,
    episode_id            uuid        REFERENCES episodes,
    source                text        NOT NULL,
    urgency               smallint    NOT NULL,
    submitted_at          timestamptz NOT NULL,
    received_at           timestamptz NOT NULL,
    ed_arrived_at         timestamptz,
    decision              text        NOT NULL CHECK (decision IN ('accepted', 'linked', 'redirected', 'declined')),
    decline_reason        text,
    assess_by             timestamptz,
    correlation_id        uuid        NOT NULL,  -- the journey, so a later breach event joins it
    assessment_started_at timestamptz,
    breached_at           timestamptz,
    PRIMARY KEY (trust, referral_id)
);
CREATE INDEX referrals_awaiting_assessment ON referrals (assess_by)
    WHERE decision = 'accepted' AND assessment_started_at IS NULL AND breached_at IS NULL;

CREATE TABLE directory_publications (
    trust        text PRIMARY KEY,
    content_hash text        NOT NULL,
    published_at timestamptz NOT NULL
);

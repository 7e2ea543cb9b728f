-- Every service keeps its own copy of each patient's consent decisions, built from consent events.
CREATE TABLE consent_decisions (
    patient_id  uuid        NOT NULL,
    seq         bigserial,
    consent_id  uuid        NOT NULL UNIQUE,
    recipient   text        NOT NULL,
    categories  text[]      NOT NULL,
    permit      boolean     NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (patient_id, seq)
);

-- Keys for the sealed copies a service sends: one live key per patient and recipient. Destroying
-- a key (withdrawal, erasure) clears it for good; its row stays as the record of when and why.
CREATE TABLE copy_keys (
    key_id       uuid        PRIMARY KEY,
    patient_id   uuid        NOT NULL,
    recipient    text        NOT NULL,
    key          bytea,
    created_at   timestamptz NOT NULL,
    destroyed_at timestamptz,
    destroyed_because text,
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE UNIQUE INDEX copy_keys_live ON copy_keys (patient_id, recipient) WHERE key IS NOT NULL;

-- Copies that passed the receiving end's consent check: what each recipient has been given.
CREATE TABLE deliveries (
    event_id        uuid        PRIMARY KEY,
    patient_id      uuid        NOT NULL,
    recipient       text        NOT NULL,
    event_type      text        NOT NULL,
    key_id          uuid        NOT NULL REFERENCES copy_keys (key_id),
    consent_version int         NOT NULL,
    delivered_at    timestamptz NOT NULL,
    copy            jsonb       NOT NULL    -- the copy as received: its content still sealed
);
CREATE INDEX deliveries_by_recipient ON deliveries (patient_id, recipient);

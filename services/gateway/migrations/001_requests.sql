-- Each request the gateway accepted, under each key a resend may carry: the referring system's
-- identifier for it and, when sent, its Idempotency-Key header. Written in the transaction that
-- queues its event in the outbox, so a request is answered 201 only once its event is durable,
-- and a resend finds the answer it was given. No patient data: the answer is a Task.
CREATE TABLE gateway_requests (
    caller       text        NOT NULL,            -- the calling system's name (callers file)
    key          text        NOT NULL,            -- 'identifier:<referral id>' or 'idempotency-key:<header>'
    fingerprint  bytea       NOT NULL,            -- SHA-256 of the referral as decided on: a different one is a conflict
    event_id     uuid        NOT NULL,            -- carepath's id for it: the event's, the Task's
    status       smallint    NOT NULL,
    location     text        NOT NULL,
    response     text        NOT NULL,            -- the Task returned, as sent
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);

-- The delivery tables every service has: what it must still publish, and what it has consumed.

CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,          -- logical topic name, without the deployment prefix
    key          bytea       NOT NULL,          -- the pseudonymous patient id
    value        bytea       NOT NULL,          -- the event, exactly as it will be published
    headers      jsonb       NOT NULL,          -- CloudEvents binary-mode headers
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE inbox (
    consumer     text        NOT NULL,
    source       text        NOT NULL,          -- CloudEvents source: ids are unique per source
    event_id     text        NOT NULL,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, source, event_id)
);

-- Delivery core v2: events parked until what they need arrives, failures counted across
-- restarts, dead letters through the outbox, and events that could not be published set aside.

-- An event whose prerequisite has not arrived (an episode announced on another topic, which
-- Kafka does not order with this one) waits here, claimed in the inbox in the same transaction,
-- and is handled when the prerequisite arrives. Never dead-lettered for lateness alone.
CREATE TABLE parked (
    seq         bigserial   PRIMARY KEY,
    consumer    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    key         text        NOT NULL,          -- the pseudonymous patient id (the Kafka key)
    headers     jsonb       NOT NULL,
    value       bytea       NOT NULL,
    reason      text        NOT NULL,          -- what it waits for, in words that name no one
    parked_at   timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0, -- failures other than waiting (bounded)
    reported_at timestamptz,                   -- when it was reported as waiting too long
    UNIQUE (consumer, topic, partition, "offset")
);
CREATE INDEX parked_by_key ON parked (consumer, key, seq);

-- Failures of a handler, per record, kept across restarts so retries stay bounded.
CREATE TABLE delivery_attempts (
    consumer   text        NOT NULL,
    topic      text        NOT NULL,
    partition  integer     NOT NULL,
    "offset"   bigint      NOT NULL,
    attempts   integer     NOT NULL,
    last_error text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition, "offset")
);

-- How often an already processed event came again (a redelivery after a crash, or a resend).
ALTER TABLE inbox ADD COLUMN redelivered integer NOT NULL DEFAULT 0;

-- Dead letters go through the outbox too, and a dead letter may have had no key.
ALTER TABLE outbox ALTER COLUMN key DROP NOT NULL;
-- An event Kafka refused for good (too large, say) is set aside with the reason, so it never
-- holds up the events queued behind it; an operator sees it in `carepath health`.
ALTER TABLE outbox ADD COLUMN set_aside_at timestamptz;
ALTER TABLE outbox ADD COLUMN failure text;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL AND set_aside_at IS NULL;

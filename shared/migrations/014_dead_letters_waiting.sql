-- The dead letters each consumer gave up on and nobody has yet put right: a row as a record is
-- dead-lettered, gone once the same event, redriven, is handled (or found handled already). What
-- `carepath_dead_letter_oldest_waiting_age_seconds` measures. No content: where it was and its id.
CREATE TABLE dead_letters_waiting (
    consumer     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint NOT NULL,
    event_id     uuid,                                  -- its ce_id, when it had a valid one
    failed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition, "offset")
);
CREATE INDEX dead_letters_waiting_by_event ON dead_letters_waiting (consumer, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX dead_letters_waiting_by_age ON dead_letters_waiting (failed_at);

-- The patient's and carer's voice. Each response to the feedback invitation, in the order it
-- arrived (`seq`: the team's totals count the first 5, 10, ... responses in this order). The
-- fixed answers are codes; the person's own words are sealed (`words`, AES-GCM under the
-- patient's "feedback" key in the key store, `words_key`), never stored in the clear.
CREATE TABLE feedback (
    feedback_id uuid PRIMARY KEY,
    seq         bigserial   NOT NULL UNIQUE,
    patient_id  uuid        NOT NULL,
    episode_id  uuid        NOT NULL,
    respondent  text        NOT NULL,
    team        text,                    -- the episode's Trust's home treatment team (none: not summarised)
    period      text        NOT NULL,    -- YYYY-MM, the month received (Europe/Belfast)
    answers     jsonb       NOT NULL,
    words_key   uuid,
    words       text,                    -- base64 ciphertext
    received_at timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL
);
CREATE INDEX feedback_by_team ON feedback (team, period, seq);
-- The one invitation midway through a long episode.
ALTER TABLE episodes ADD COLUMN feedback_invited_at timestamptz;
CREATE INDEX episodes_open_not_invited ON episodes (opened_at) WHERE closed_at IS NULL AND feedback_invited_at IS NULL;

CREATE TABLE episodes (
    episode_id uuid PRIMARY KEY,
    patient_id uuid        NOT NULL,
    started_at timestamptz NOT NULL
);

CREATE TABLE visits (
    visit_id        uuid PRIMARY KEY,
    episode_id      uuid        NOT NULL REFERENCES episodes,
    patient_id      uuid        NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL CHECK (window_end > window_start AND window_end - window_start <= interval '1 hour'),
    planned_minutes integer     NOT NULL,
    status          text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'completed', 'not-seen')),
    actual_minutes  integer,
    outcome_at      timestamptz
);
CREATE INDEX visits_by_episode ON visits (episode_id, window_start);

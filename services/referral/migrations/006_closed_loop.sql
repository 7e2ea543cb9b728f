-- Closing the loop with referrers: what each episode's referrers have been told of its care, so
-- each change is told once, whatever is delivered again, and a run of missed visits is counted.
CREATE TABLE referrer_progress (
    episode_id      uuid PRIMARY KEY REFERENCES episodes,
    outcome         text,
    seen_at_home    boolean     NOT NULL DEFAULT false,
    missed_in_a_row integer     NOT NULL DEFAULT 0,
    discharged      boolean     NOT NULL DEFAULT false,
    updated_at      timestamptz NOT NULL
);

-- Staff and shifts from the rota, care plans, and visits assigned to people. No member of staff
-- can be booked into two overlapping windows: the database refuses it, whatever the concurrency.

CREATE EXTENSION IF NOT EXISTS btree_gist;  -- a trusted extension: the database owner may create it

CREATE TABLE staff (
    staff_id     text PRIMARY KEY,
    team         text        NOT NULL,
    role         text        NOT NULL,
    skills       text[]      NOT NULL,
    team_lead    boolean     NOT NULL,
    display_name text
);

CREATE TABLE shifts (
    staff_id  text        NOT NULL REFERENCES staff,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    EXCLUDE USING gist (staff_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
);

ALTER TABLE episodes ADD COLUMN team text;
ALTER TABLE episodes ADD COLUMN key_worker text;
ALTER TABLE episodes ADD COLUMN core_team text[] NOT NULL DEFAULT '{}';
ALTER TABLE episodes ADD COLUMN required_skills text[] NOT NULL DEFAULT '{}';
ALTER TABLE episodes ADD COLUMN planned_minutes integer NOT NULL DEFAULT 60;

ALTER TABLE visits ADD COLUMN staff_id text;
ALTER TABLE visits ADD COLUMN started_at timestamptz;
ALTER TABLE visits ADD COLUMN late_notified_at timestamptz;
ALTER TABLE visits ADD COLUMN missed_at timestamptz;
ALTER TABLE visits ADD COLUMN replaces_visit_id uuid;
ALTER TABLE visits DROP CONSTRAINT visits_status_check;
ALTER TABLE visits ADD CONSTRAINT visits_status_check CHECK (status IN ('scheduled', 'completed', 'not-seen', 'missed'));
ALTER TABLE visits ADD CONSTRAINT no_double_booking
    EXCLUDE USING gist (staff_id WITH =, tstzrange(window_start, window_end) WITH &&) WHERE (staff_id IS NOT NULL);
CREATE INDEX visits_open ON visits (window_start) WHERE status = 'scheduled';

-- Weekly contacts against the plan, and visits cancelled when an episode closes.
ALTER TABLE episodes ADD COLUMN plan_start date;           -- local day of the first planned visit
ALTER TABLE episodes ADD COLUMN visits_first_week integer;
ALTER TABLE episodes ADD COLUMN visits_per_week_after integer;
ALTER TABLE episodes ADD COLUMN weeks_checked integer NOT NULL DEFAULT 0;
ALTER TABLE episodes ADD COLUMN closed_at timestamptz;

ALTER TABLE visits DROP CONSTRAINT visits_status_check;
ALTER TABLE visits ADD CONSTRAINT visits_status_check
    CHECK (status IN ('scheduled', 'completed', 'not-seen', 'missed', 'cancelled'));
ALTER TABLE visits DROP CONSTRAINT no_double_booking;
ALTER TABLE visits ADD CONSTRAINT no_double_booking
    EXCLUDE USING gist (staff_id WITH =, tstzrange(window_start, window_end) WITH &&)
    WHERE (staff_id IS NOT NULL AND status <> 'cancelled');

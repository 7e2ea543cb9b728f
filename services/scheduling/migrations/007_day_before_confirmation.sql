-- The day before each visit the patient is told its window and who is coming; when, so it is
-- told once.
ALTER TABLE visits ADD COLUMN confirmed_at timestamptz;
CREATE INDEX visits_to_confirm ON visits (window_start) WHERE status = 'scheduled' AND confirmed_at IS NULL;

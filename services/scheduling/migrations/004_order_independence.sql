-- Topics are not ordered with each other. A closure read before the assessment that opened the
-- episode is kept as an episode with no start, so the assessment, read later, plans nothing. A key
-- worker chosen after the plan (the rota read late) is told to the patient once the choice settles.
ALTER TABLE episodes ALTER COLUMN started_at DROP NOT NULL;
ALTER TABLE episodes ADD COLUMN key_worker_chosen_at timestamptz;
ALTER TABLE episodes ADD COLUMN key_worker_named_at timestamptz;  -- the patient was told the name
-- Until now a key worker was only ever chosen with the plan, whose message named them.
UPDATE episodes SET key_worker_chosen_at = started_at, key_worker_named_at = started_at WHERE key_worker IS NOT NULL;
CREATE INDEX episodes_open_by_team ON episodes (team) WHERE closed_at IS NULL AND plan_start IS NOT NULL;
CREATE INDEX episodes_awaiting_names ON episodes (team)
    WHERE key_worker IS NOT NULL AND key_worker_named_at IS NULL AND closed_at IS NULL;

-- The teams caring in an episode, found by episode when it ends (without this, each end read the
-- whole table).
CREATE INDEX care_teams_current_by_episode ON care_teams (episode_id) WHERE left_at IS NULL;

-- Lookups every referral and every assessment start make, indexed so that their cost does not
-- grow with the number of episodes and referrals held (without them each one read the whole table).
CREATE INDEX episodes_by_patient ON episodes (patient_id);
CREATE INDEX referrals_by_episode ON referrals (episode_id) WHERE episode_id IS NOT NULL;

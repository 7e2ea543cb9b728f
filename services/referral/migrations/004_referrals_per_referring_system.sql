-- A referral id is unique only per referring system (the CloudEvents source: a GP system, an ED
-- system), not per Trust: the same id from two systems is two referrals. Referrals from before
-- this change keep their Trust as the system they came from, so none of them collides.
ALTER TABLE referrals ADD COLUMN referring_system text;
UPDATE referrals SET referring_system = 'before-004:' || trust;
ALTER TABLE referrals ALTER COLUMN referring_system SET NOT NULL;
ALTER TABLE referrals DROP CONSTRAINT referrals_pkey;
ALTER TABLE referrals ADD PRIMARY KEY (referring_system, referral_id);

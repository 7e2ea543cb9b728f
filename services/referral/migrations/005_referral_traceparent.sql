-- The trace a referral was accepted in (a W3C traceparent; null for referrals from before traces,
-- or accepted where none was carried), so a breach of its response target, found later by the
-- deadline check, is published in the referral's own trace.
ALTER TABLE referrals ADD COLUMN traceparent text;

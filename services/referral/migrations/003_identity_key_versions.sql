-- Which version of the identity sealing key sealed each patient's identity, so the key can be
-- rotated: new identities are sealed with the newest key, older ones stay readable with theirs.
ALTER TABLE patients ADD COLUMN identity_key_version smallint NOT NULL DEFAULT 1;

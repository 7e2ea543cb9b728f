-- Copy keys now live in the service's key store (shared/privacy/keystore.py), outside this
-- database and its backups; this table keeps which key sealed what, for whom, and when it was
-- destroyed. Keys still here are moved to the key store at start (copies.move_keys_to_store).
ALTER TABLE copy_keys DROP CONSTRAINT IF EXISTS copy_keys_check;
DROP INDEX copy_keys_live;
CREATE UNIQUE INDEX copy_keys_live ON copy_keys (patient_id, recipient) WHERE destroyed_at IS NULL;

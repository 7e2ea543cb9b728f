-- A published event is deleted from the outbox, not marked: the broker keeps what was published,
-- and marking it cost a new row version and two index entries per event (the largest write a
-- busy service made) while the table grew without end. What stays is what is still to be sent
-- and what was set aside, so the key's own index finds the next batch.
DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;

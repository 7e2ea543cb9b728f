-- The heartbeat counts set-aside events every few seconds; published rows are kept, so without
-- this index that count would read the whole outbox each time.
CREATE INDEX outbox_set_aside ON outbox (seq) WHERE set_aside_at IS NOT NULL;

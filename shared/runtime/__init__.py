"""The runtime every service runs on: the consumer (batches, inbox, parking, retries, dead
letters), the handler context, the outbox relay, the envelope codec, PostgreSQL, logging, the
settings and the clock."""

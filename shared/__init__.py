"""carepath's own library, used by every service: envelope codec, outbox relay, inbox,
retries and dead letters, the service runtime, logging, and the operators' command."""

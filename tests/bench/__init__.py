"""`make bench`: how fast carepath moves events on the real broker, against a minimal relay
measured on the same broker in the same run (`python -m tests.bench --help`)."""

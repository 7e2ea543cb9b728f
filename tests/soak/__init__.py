"""`make soak`: whole journeys while services are killed at random, then an account of what was
lost, what happened twice, and how often the inboxes caught a redelivery (`python -m tests.soak --help`)."""

"""Reference data every service reads the same way: the service directory and H&C numbers."""

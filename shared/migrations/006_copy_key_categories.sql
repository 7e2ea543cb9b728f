-- What each copy key has sealed, so a deny destroys only the keys of copies it concerns.
ALTER TABLE copy_keys ADD COLUMN categories text[] NOT NULL DEFAULT '{}';

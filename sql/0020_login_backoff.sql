-- Lockouts grow: each one of a user lasts twice as long as the one before (up to a cap
-- set by the API), and a successful sign-in starts again from the first.
ALTER TABLE users ADD COLUMN lockouts integer NOT NULL DEFAULT 0;

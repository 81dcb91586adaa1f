-- Backup codes: each online lock may keep a small pool of codes known to nobody, owned by
-- `backup:{lock}` in `reservation_id` until one is given to a guest whose own code cannot
-- reach the lock. Giving it moves it to the guest's reservation and records when (UTC Unix
-- seconds), so that what it opened before belongs to nobody.
ALTER TABLE access_codes ADD COLUMN pulled_at BIGINT;

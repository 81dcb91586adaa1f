-- A reservation confirmed but not yet paid, where the property requires payment, gets no
-- code; it will when paid. Its expected grants (what the rule would grant once paid) are
-- planned with `expected` = 1: the capacity forecast counts them, so a night over
-- capacity is alerted days ahead of the payments; no code waits for them.
ALTER TABLE planned_grants ADD COLUMN expected BIGINT NOT NULL DEFAULT 0;

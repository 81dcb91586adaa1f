-- Counts the times an account's credentials were set, so that every replica can tell,
-- with one indexed read before it calls the cloud, that its client was connected with an
-- older set (a timestamp in seconds cannot tell two sets stored in the same second apart).
ALTER TABLE provider_credentials ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- The codes a lock holds that Latchkey did not make (added in the vendor's app), as the
-- lock sync last listed them, rewritten per lock at each sync. They are never touched,
-- shown on the lock's panel, and counted against the lock's capacity. No PIN is kept:
-- they are not ours to know. Instants are UTC Unix seconds; no window means permanent.
CREATE TABLE unmanaged_codes (
    workspace_id TEXT   NOT NULL,
    lock_id      TEXT   NOT NULL,
    reference    TEXT   NOT NULL,
    name         TEXT,
    starts_at    BIGINT,
    ends_at      BIGINT,
    enabled      INTEGER NOT NULL,   -- 1 or 0
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, lock_id, reference)
);

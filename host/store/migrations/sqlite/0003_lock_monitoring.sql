-- Lock monitoring: what each lock's cloud last said about it, and its activity log.

-- One row per lock, replaced by every sync.
CREATE TABLE lock_status (
    workspace_id    TEXT    NOT NULL,
    lock_id         TEXT    NOT NULL,
    online          INTEGER NOT NULL,
    battery_percent INTEGER,
    -- ok | low | critical, or NULL when the cloud reports no battery
    battery_level   TEXT,
    -- Start of the current offline spell, and of the current low-battery spell.
    offline_since   BIGINT,
    battery_since   BIGINT,
    -- The activity log has been read up to this instant (inclusive; entries are
    -- de-duplicated by their provider id).
    activity_cursor BIGINT,
    last_activity_at BIGINT,
    -- The last sync's failure, if it failed.
    error           TEXT,
    checked_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, lock_id)
);

-- Every entry of the locks' activity logs, with who it was.
CREATE TABLE lock_activity (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    lock_id         TEXT    NOT NULL,
    -- The provider's id of the entry.
    entry_id        TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    -- unlock | lock | denied | other
    action          TEXT    NOT NULL,
    -- keypad | app | remote | manual | unknown
    method          TEXT    NOT NULL,
    -- guest | staff | system | unknown
    initiator       TEXT    NOT NULL,
    reservation_id  TEXT,
    code_id         BIGINT,
    actor           TEXT,
    -- 1 when an active grant (or staff, or Latchkey itself) covers it
    covered         INTEGER NOT NULL,
    UNIQUE (workspace_id, lock_id, entry_id)
);
CREATE INDEX lock_activity_by_lock ON lock_activity (workspace_id, lock_id, at);

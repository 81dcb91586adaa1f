-- Staff codes: access not tied to a reservation (cleaning, maintenance, a master code),
-- on a recurring window. Their codes live in access_codes under the owner id
-- `staff:{name}`, beside guests' codes, and go through the same jobs.
CREATE TABLE staff_codes (
    workspace_id    TEXT COLLATE "C"    NOT NULL,
    name            TEXT COLLATE "C"    NOT NULL,
    -- JSON array of lock ids.
    locks           TEXT COLLATE "C"    NOT NULL,
    -- cron expression with seconds (`sec min hour day-of-month month day-of-week`), in the
    -- property's time zone.
    schedule        TEXT COLLATE "C"    NOT NULL,
    duration_secs   BIGINT  NOT NULL,
    -- The PIN to use where the lock takes custom PINs; chosen once when not given.
    pin             TEXT COLLATE "C",
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- Latchkey schema. Portable SQL (SQLite now, PostgreSQL later): instants are BIGINT Unix
-- seconds (UTC), JSON documents are TEXT, booleans are INTEGER 0/1.

-- The inbox: every accepted webhook, stored before it is acknowledged.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    webhook_id      TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    payload         TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    -- applied: became the reservation's state; stale: older than the state on record;
    -- failed: the rule failed on it (see error).
    outcome         TEXT    NOT NULL,
    error           TEXT,
    UNIQUE (workspace_id, source, webhook_id)
);
CREATE INDEX events_by_reservation ON events (workspace_id, reservation_id, id);

-- The latest full state of each reservation.
CREATE TABLE reservations (
    workspace_id    TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    last_event_type TEXT    NOT NULL,
    last_event_at   BIGINT  NOT NULL,
    -- The guest's PIN, reused across the property's locks where they allow it.
    pin             TEXT,
    rule_error      TEXT,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Access codes Latchkey has put, or is putting, on locks.
CREATE TABLE access_codes (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    lock_id         TEXT    NOT NULL,
    pin             TEXT,
    starts_at       BIGINT  NOT NULL,
    ends_at         BIGINT  NOT NULL,
    lock_starts_at  BIGINT,
    lock_ends_at    BIGINT,
    state           TEXT    NOT NULL,
    provider_ref    TEXT,
    -- The code this one replaces (set before the old one is cleared).
    replaces        BIGINT,
    -- 1 once an unrevocable alert was raised for it.
    unrevocable     INTEGER NOT NULL DEFAULT 0,
    -- Changes of window applied in place by the provider.
    updates         INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX access_codes_by_reservation ON access_codes (workspace_id, reservation_id);
CREATE INDEX access_codes_by_lock_pin ON access_codes (workspace_id, lock_id, pin);

-- Durable jobs: every provider call and every scheduled wake-up.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    -- queued | running | dead (done jobs are deleted)
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          BIGINT  NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
-- At most one queued job per dedupe key; a running one may have a queued successor.
CREATE UNIQUE INDEX jobs_one_queued_per_key ON jobs (dedupe_key) WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (state, run_at);

-- Alerts a person must see: unrevocable codes, revocations that keep failing, dead letters.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    lock_id         TEXT,
    reservation_id  TEXT,
    code_id         BIGINT,
    message         TEXT    NOT NULL,
    raised_at       BIGINT  NOT NULL,
    acknowledged_at BIGINT
);

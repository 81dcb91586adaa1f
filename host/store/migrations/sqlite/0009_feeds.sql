-- Forms whose payloads carry no version of their own (lodgify, generic without a version
-- path, ical): the version Latchkey assigned to each reservation's mapped state, so that
-- it only grows. `digest` identifies the mapped content last applied (SHA-256, hex);
-- `order_key` is the payload's own ordering value when it has one (a version or a
-- modification instant), so an older delivery is recognised as stale.
CREATE TABLE source_versions (
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    digest          TEXT    NOT NULL,
    order_key       BIGINT,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, source, reservation_id)
);

-- Each polled calendar feed: consecutive fetches that failed or came back empty, which
-- cancel its stays only once they reach the source's `misses` (hysteresis).
CREATE TABLE ical_feeds (
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    misses          INTEGER NOT NULL DEFAULT 0,
    last_polled_at  BIGINT,
    last_success_at BIGINT,
    last_error      TEXT,
    PRIMARY KEY (workspace_id, source)
);

-- The stays a feed listed, by UID: `missing` counts the consecutive successful, non-empty
-- fetches that no longer listed it; `cancelled` is 1 once its cancellation was accepted.
CREATE TABLE ical_stays (
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    uid             TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    check_out       BIGINT  NOT NULL,
    missing         INTEGER NOT NULL DEFAULT 0,
    cancelled       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, source, uid)
);

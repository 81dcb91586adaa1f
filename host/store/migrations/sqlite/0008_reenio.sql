-- reenio webhooks: every delivery stored raw before it is answered `200 REENIO`; the
-- `fetch_reenio` job, enqueued in the same transaction, fetches the reservation and hands
-- it to the inbox.
CREATE TABLE reenio_deliveries (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    -- The custom message it came from (`x-latchkey-hook`, `default` without it).
    hook            TEXT    NOT NULL,
    trigger_type    BIGINT  NOT NULL,
    reservation_id  BIGINT,
    customer_id     BIGINT,
    -- The body as received, and its SHA-256 in hex: identical bodies within a short
    -- window are one delivery retried.
    body            TEXT    NOT NULL,
    body_sha256     TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    -- pending: the fetch is due; fetched: handed to the inbox (event_id);
    -- ignored: the hook's mapping ignores this trigger; unconfirmed: the fetched
    -- reservation awaits confirmation; gone: reenio knows no such reservation and none
    -- was on record.
    state           TEXT    NOT NULL,
    event_id        BIGINT,
    processed_at    BIGINT
);
CREATE INDEX reenio_deliveries_by_body ON reenio_deliveries (workspace_id, source, body_sha256, received_at);
CREATE INDEX reenio_deliveries_pending ON reenio_deliveries (workspace_id, source, reservation_id, state);

-- Guest notifications: what each guest was told, the outbox of messages, and the health
-- of the platforms' callback endpoints.

-- Per reservation: the rule's latest request and the door sheet the guest was last told.
CREATE TABLE guest_notices (
    workspace_id    TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    -- The latest plan's `notify` (JSON); NULL: the rule asks for nothing.
    request         TEXT,
    -- JSON array of doors (lock, PIN, window) last queued for telling; NULL: never told;
    -- `[]` after a revocation notice.
    told            TEXT,
    -- Messages decided so far; each decision takes the next number, which names its
    -- messages' idempotency keys.
    seq             BIGINT  NOT NULL DEFAULT 0,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, reservation_id)
);

-- The outbox: one message per channel, written in the transaction that decided it and
-- sent by a durable job.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    -- issued | changed | revoked
    kind            TEXT    NOT NULL,
    -- email | sms | callback
    channel         TEXT    NOT NULL,
    -- Address, phone number or callback URL; NULL when there is none to send to.
    recipient       TEXT,
    locale          TEXT    NOT NULL,
    -- JSON: the guest's name and the doors told, as decided.
    content         TEXT    NOT NULL,
    -- Sent with the message (Message-ID, webhook-id) so a receiver can drop a repeat.
    idempotency_key TEXT    NOT NULL UNIQUE,
    -- queued | sent | skipped | superseded | failed
    state           TEXT    NOT NULL,
    -- Why it was skipped or failed; the receiver's id once sent.
    detail          TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX notifications_by_reservation ON notifications (workspace_id, reservation_id, channel, seq);

-- Callback endpoints that fail: disabled after days of failure, or at once on 410 Gone.
CREATE TABLE callback_endpoints (
    workspace_id    TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    failing_since   BIGINT,
    disabled_at     BIGINT,
    disabled_reason TEXT,
    PRIMARY KEY (workspace_id, url)
);

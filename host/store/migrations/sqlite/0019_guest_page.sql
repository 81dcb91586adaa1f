-- The guest's own page (GET /g/{token}): the secret its links are signed with, one per
-- workspace so that every replica signs and checks alike (made on first use, never shown);
-- and each "my code doesn't work" a guest reported there: what the check found and did.
-- Reports are the page's audit trail and its rate limit. Instants are UTC Unix seconds.
CREATE TABLE guest_link_secrets (
    workspace_id TEXT   PRIMARY KEY,
    secret       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE guest_reports (
    id             INTEGER PRIMARY KEY,
    workspace_id   TEXT   NOT NULL,
    reservation_id TEXT   NOT NULL,
    lock_id        TEXT   NOT NULL,
    at             BIGINT NOT NULL,
    -- on_lock | put_back | backup_given | unreadable | no_code
    outcome        TEXT   NOT NULL,
    detail         TEXT   NOT NULL
);
CREATE INDEX guest_reports_by_reservation ON guest_reports (workspace_id, reservation_id, at);

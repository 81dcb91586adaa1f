-- Who may call the admin API, and what they did (issue 7).

-- API keys: `lk_` + 43 characters of base64url (256 random bits). Only their SHA-256 is
-- kept: a key this random needs no slow hash, and the digest is what a request is looked
-- up by. `prefix` (the first 10 characters) tells keys apart in lists.
CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    prefix          TEXT    NOT NULL,
    secret_sha256   TEXT    NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    created_by      TEXT    NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE UNIQUE INDEX api_keys_name ON api_keys (workspace_id, name) WHERE revoked_at IS NULL;

-- Dashboard users; passwords as Argon2id PHC strings.
CREATE TABLE users (
    workspace_id    TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, username)
);

-- Dashboard sessions, by the SHA-256 of the cookie's token. A session signed in with a
-- key ends when the key is revoked (`api_key_id`), one signed in with a password when
-- the user is deleted (`username`).
CREATE TABLE sessions (
    token_sha256    TEXT    PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    api_key_id      BIGINT,
    username        TEXT,
    csrf_token      TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);

-- Every write through the API: recorded before the handler runs (status NULL), its
-- answer's status filled in after, so a crash mid-request still leaves the attempt.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    actor           TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    method          TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    request_id      TEXT,
    status          INTEGER
);
CREATE INDEX audit_log_by_id ON audit_log (workspace_id, id);

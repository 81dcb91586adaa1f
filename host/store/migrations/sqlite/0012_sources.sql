-- Webhook sources created through the API (issue 7), beside those of property.toml (which
-- win a name clash), and their signing secrets. A rotation adds a secret and gives the
-- previous ones an `expires_at`: until then, a delivery signed with any of them verifies.

CREATE TABLE api_sources (
    workspace_id    TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    form            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    created_by      TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- `secret` holds the `whsec_…` text: sealed with LATCHKEY_CREDENTIALS_KEY
-- (ChaCha20-Poly1305, `nonce` set) when that key is configured, else plain (`nonce` NULL).
-- The verifier needs the secret itself (HMAC), so a hash would not do. `prefix` (the
-- first characters) tells secrets apart in lists.
CREATE TABLE source_secrets (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    prefix          TEXT    NOT NULL,
    secret          BLOB    NOT NULL,
    nonce           BLOB,
    created_at      BIGINT  NOT NULL,
    -- NULL: current; else the instant (Unix seconds UTC) it stops verifying.
    expires_at      BIGINT,
    FOREIGN KEY (workspace_id, source) REFERENCES api_sources (workspace_id, name)
);
CREATE INDEX source_secrets_by_source ON source_secrets (workspace_id, source);

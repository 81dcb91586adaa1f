-- Lock-cloud accounts: the credentials each workspace's accounts connect with, sealed, and
-- the accounts property.toml declared when the service last started.

-- One row per account that has credentials. `ciphertext` is the credentials' JSON sealed
-- with ChaCha20-Poly1305 under LATCHKEY_CREDENTIALS_KEY (never stored here), with
-- (workspace_id, account_key) as associated data: a row copied to another account does
-- not open. `kind` (nuki | ttlock | igloohome | seam) is in clear for listings only; the
-- sealed JSON carries its own.
CREATE TABLE provider_credentials (
    workspace_id    TEXT COLLATE "C"    NOT NULL,
    account_key     TEXT COLLATE "C"    NOT NULL,
    kind            TEXT COLLATE "C"    NOT NULL,
    nonce           BYTEA    NOT NULL,
    ciphertext      BYTEA    NOT NULL,
    -- Unix seconds (UTC) of the latest change.
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, account_key)
);

-- The `[[accounts]]` of property.toml, as recorded at the latest start, so that the API
-- can check credentials against the account they are for. Replaced whole at each start;
-- credentials of an account that left property.toml stay until deleted.
CREATE TABLE provider_accounts (
    workspace_id    TEXT COLLATE "C"    NOT NULL,
    account_key     TEXT COLLATE "C"    NOT NULL,
    kind            TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (workspace_id, account_key)
);

-- Branch assignment of locks, as changed through the API (`PUT /v1/locks/{lock}/branch`).
-- A row overrides the branch written in property.toml; no row: property.toml decides.

CREATE TABLE lock_assignments (
    workspace_id    TEXT COLLATE "C"    NOT NULL,
    lock_id         TEXT COLLATE "C"    NOT NULL,
    -- NULL: unassigned (the lock gets no codes and raises no alerts).
    branch_id       TEXT COLLATE "C",
    -- Unix seconds (UTC) of the latest change.
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, lock_id)
);

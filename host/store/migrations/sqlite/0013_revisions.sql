-- What an admin changes at run time, counted per workspace: every replica compares these
-- with the revision its caches were loaded at before it plans, and reloads on a change, so
-- an activation or an assignment acknowledged by one replica is what every replica plans
-- with. Bumped in the transaction that makes the change; no row: revision 0.

CREATE TABLE workspace_revisions (
    workspace_id    TEXT PRIMARY KEY,
    -- The active rule: a plugin or a Rhai version activated, or either deactivated.
    rule            BIGINT  NOT NULL DEFAULT 0,
    -- Lock branch assignments (`lock_assignments`).
    assignments     BIGINT  NOT NULL DEFAULT 0
);

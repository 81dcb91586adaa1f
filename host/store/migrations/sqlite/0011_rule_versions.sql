-- Rhai rules uploaded through the API (issue 7): every version is kept, and the one a
-- workspace plans with. Activating a Rhai version removes the workspace's plugin
-- activation (`workspace_rules`) and activating a plugin removes this one, so at most one
-- of the two is on record: the one activated last, which a restart restores.

CREATE TABLE rule_versions (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    sha256          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    created_by      TEXT    NOT NULL,
    -- When last activated, Unix seconds UTC; NULL when never.
    activated_at    BIGINT
);
CREATE INDEX rule_versions_by_workspace ON rule_versions (workspace_id, id);

-- The Rhai version a workspace plans with; no row: a plugin or the property's rule file.
CREATE TABLE workspace_rule_versions (
    workspace_id    TEXT    PRIMARY KEY,
    version_id      BIGINT  NOT NULL REFERENCES rule_versions (id),
    activated_at    BIGINT  NOT NULL,
    activated_by    TEXT    NOT NULL
);

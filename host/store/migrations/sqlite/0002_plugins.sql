-- Partner plugins: uploaded WebAssembly components, immutable once stored, and which
-- workspace plans with which version.

-- Every uploaded version. A plugin is shared: one partner's plugin may serve many
-- workspaces. The same bytes under the same name are one version.
CREATE TABLE plugin_versions (
    name            TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    sha256          TEXT    NOT NULL,
    size_bytes      BIGINT  NOT NULL,
    component       BLOB    NOT NULL,
    uploaded_at     BIGINT  NOT NULL,
    PRIMARY KEY (name, version),
    UNIQUE (name, sha256)
);

-- The plugin version a workspace plans with; no row: the property's rule file.
CREATE TABLE workspace_rules (
    workspace_id    TEXT    PRIMARY KEY,
    plugin          TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    activated_at    BIGINT  NOT NULL,
    FOREIGN KEY (plugin, version) REFERENCES plugin_versions (name, version)
);

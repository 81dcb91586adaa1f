-- The grants each owner's last plan wants on locks that hold a limited number of codes,
-- one row per (owner, lock), rewritten whenever that plan changes. A lock's codes are a
-- budget: deciding whether a code may go on early, and forecasting each day's demand,
-- needs the grants still waiting for a code, which the codes on record do not show.
-- Instants are UTC Unix seconds.
CREATE TABLE planned_grants (
    workspace_id TEXT   NOT NULL,
    owner_id     TEXT   NOT NULL,
    lock_id      TEXT   NOT NULL,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    issue_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, owner_id, lock_id)
);
CREATE INDEX planned_grants_by_lock ON planned_grants (workspace_id, lock_id, ends_at);

-- The codes that take a slot on a lock (state pending, active or revoking), found without
-- reading every code the lock ever had: a lock's budget reads them before each code that
-- goes on it, and the forecast reads those of every lock.
CREATE INDEX access_codes_by_state ON access_codes (workspace_id, state, lock_id);

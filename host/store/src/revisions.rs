//! Revisions of what an admin changes at run time (table `workspace_revisions`): the
//! active rule and the lock branch assignments. A change bumps its counter in the
//! transaction that makes it; a replica compares the counters with those its caches were
//! loaded at before it plans, so a change acknowledged by one replica is seen by all.

use latchkey_engine::WorkspaceId;

use super::Conn;
use crate::error::Result;

/// The counters of one workspace; both 0 before the first change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revisions {
    /// Bumped by every activation or deactivation of a plugin or a Rhai version.
    pub rule: i64,
    /// Bumped by every change of a lock's branch assignment.
    pub assignments: i64,
}

/// Which counter a change bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// The active rule.
    Rule,
    /// Lock branch assignments.
    Assignments,
}

/// The counters of `ws` as committed.
///
/// # Errors
/// Database errors.
pub async fn get(conn: &mut Conn, ws: &WorkspaceId) -> Result<Revisions> {
    let row = sqlx::query_as::<_, (i64, i64)>(
        "SELECT rule, assignments FROM workspace_revisions WHERE workspace_id = $1",
    )
    .bind(ws.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(
        row.map_or_else(Revisions::default, |(rule, assignments)| Revisions {
            rule,
            assignments,
        }),
    )
}

/// Bumps `topic`'s counter of `ws`, in the caller's transaction; returns the counters
/// with it bumped.
///
/// # Errors
/// Database errors.
pub async fn bump(conn: &mut Conn, ws: &WorkspaceId, topic: Topic) -> Result<Revisions> {
    // Static texts per topic: a column name cannot be a bound parameter.
    let sql = match topic {
        Topic::Rule => {
            "INSERT INTO workspace_revisions (workspace_id, rule) VALUES ($1, 1)
             ON CONFLICT (workspace_id) DO UPDATE SET rule = workspace_revisions.rule + 1
             RETURNING rule, assignments"
        }
        Topic::Assignments => {
            "INSERT INTO workspace_revisions (workspace_id, assignments) VALUES ($1, 1)
             ON CONFLICT (workspace_id) DO UPDATE SET assignments = workspace_revisions.assignments + 1
             RETURNING rule, assignments"
        }
    };
    let (rule, assignments) = sqlx::query_as::<_, (i64, i64)>(sql)
        .bind(ws.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok(Revisions { rule, assignments })
}

//! [`WorkspaceDb`]: the database as most of the service sees it, scoped to the one
//! workspace this process serves.

use latchkey_engine::WorkspaceId;
use latchkey_store::Pool;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Transaction};

use crate::error::Result;

/// A handle on the database and the workspace whose rows a caller reads and writes: what
/// an admin route or a job needs instead of the whole application. Cheap to clone (the
/// pool is shared).
#[derive(Debug, Clone)]
pub struct WorkspaceDb {
    pool: Pool,
    workspace: WorkspaceId,
}

impl WorkspaceDb {
    /// Scopes `pool` to `workspace`.
    pub fn new(pool: Pool, workspace: WorkspaceId) -> WorkspaceDb {
        WorkspaceDb { pool, workspace }
    }

    /// The workspace every row read or written through this handle belongs to.
    pub fn workspace(&self) -> &WorkspaceId {
        &self.workspace
    }

    /// A connection from the pool.
    ///
    /// # Errors
    /// Database errors (503 `unavailable` when the pool timed out).
    pub async fn acquire(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction on a connection from the pool.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(self.pool.begin().await?)
    }
}

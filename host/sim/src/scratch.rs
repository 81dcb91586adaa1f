//! Throw-away PostgreSQL databases for replays, benchmarks and tests: each run gets an
//! empty database of its own on a shared server, dropped when the run is over.

use std::sync::atomic::{AtomicU32, Ordering};

use latchkey_store::Database;
use sqlx::{Connection, Executor, PgConnection};

/// Why a scratch database could not be made or dropped.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    /// The server URL is not a `postgres://` URL.
    #[error("`{url}` is not a postgres:// URL: {why}")]
    NotPostgres {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The server could not be reached, or refused the statement.
    #[error("PostgreSQL: {0}")]
    Database(#[from] sqlx::Error),
}

type Result<T> = std::result::Result<T, ScratchError>;

/// An empty database created on a PostgreSQL server; [`ScratchDatabase::drop_database`]
/// removes it (a run that dies leaves it behind, named `latchkey_<purpose>_<pid>_<n>`).
#[derive(Debug)]
pub struct ScratchDatabase {
    /// The new database, as the service opens it.
    pub database: Database,
    url: String,
    server: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates `latchkey_<purpose>_<pid>_<n>` on the server of `server_url` (any database
    /// of that server the user may connect to, such as `postgres://postgres@127.0.0.1/postgres`).
    ///
    /// # Errors
    /// [`ScratchError::Database`] when the server cannot be reached or refuses
    /// `CREATE DATABASE`; [`ScratchError::NotPostgres`] when `server_url` is not a
    /// PostgreSQL URL.
    pub async fn create(server_url: &str, purpose: &str) -> Result<ScratchDatabase> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let not_postgres = |why: String| ScratchError::NotPostgres {
            url: server_url.to_owned(),
            why,
        };
        let mut url = url::Url::parse(server_url).map_err(|e| not_postgres(e.to_string()))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(not_postgres(format!("the scheme is `{}`", url.scheme())));
        }
        let purpose: String = purpose
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let name = format!(
            "latchkey_{purpose}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(server_url).await?;
        // A name made of [a-z0-9_] only: quoting it is enough.
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
            .await?;
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await?;
        admin.close().await?;
        url.set_path(&format!("/{name}"));
        Ok(ScratchDatabase {
            database: Database::Postgres(url.to_string()),
            url: url.to_string(),
            server: server_url.to_owned(),
            name,
        })
    }

    /// The new database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, closing whatever connections are still open to it.
    ///
    /// # Errors
    /// [`ScratchError::Database`] when the server cannot be reached.
    pub async fn drop_database(self) -> Result<()> {
        let mut admin = PgConnection::connect(&self.server).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
            .await?;
        admin.close().await?;
        Ok(())
    }
}

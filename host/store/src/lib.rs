//! Latchkey's state: one SQLite file (WAL) as the embedded default, or a PostgreSQL
//! server shared by several replicas.
//!
//! Each submodule owns one table. Functions take the caller's connection, so a state
//! change and the jobs it causes commit in one transaction; every function is scoped by
//! [`WorkspaceId`](latchkey_engine::WorkspaceId). The SQL is written once for both
//! databases: numbered placeholders (`$1`), integers for instants (Unix seconds UTC) and
//! booleans (0/1), text compared byte-wise; the few places where the two differ ask
//! [`Backend`]. The schema is kept twice, in `migrations/sqlite` and
//! `migrations/postgres`, with the same versions, tables and columns.

pub mod access;
pub mod alerts;
pub mod assignments;
pub mod audit;
pub mod callbacks;
pub mod codes;
pub mod credentials;
pub mod error;
pub mod events;
pub mod feeds;
pub mod guest_page;
pub mod jobs;
pub mod monitoring;
pub mod notifications;
pub mod planned;
pub mod plugins;
pub mod reenio;
pub mod reservations;
pub mod revisions;
pub mod rule_versions;
pub mod source_versions;
pub mod sources;
pub mod staff;
pub mod unmanaged;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Executor};

use crate::error::Result;

/// The connection type store functions take.
pub type Conn = AnyConnection;

/// A pool of connections to either database.
pub type Pool = AnyPool;

/// The SQLite schema, applied by [`open`].
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The PostgreSQL schema, applied by [`open`].
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one writer at a time, so a transaction never interleaves with another.
    Sqlite,
    /// PostgreSQL: concurrent transactions, possibly from several replicas.
    Postgres,
}

impl Backend {
    /// The backend `conn` is connected to.
    pub fn of(conn: &Conn) -> Backend {
        match conn.backend_name() {
            "PostgreSQL" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// The schema this binary embeds for the backend.
    pub fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Where the state lives, as given to `--database` or `DATABASE_URL`.
///
/// `postgres://…` or `postgresql://…` is a PostgreSQL server (user, password, host, port,
/// database and parameters as libpq reads them); `sqlite://PATH` or any other text is a
/// SQLite file, created if missing.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by URL.
    Postgres(String),
}

impl Database {
    /// The backend it names.
    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// False for a SQLite file that does not exist (yet); a server is assumed to.
    pub fn exists(&self) -> bool {
        match self {
            Database::Sqlite(path) => path.exists(),
            Database::Postgres(_) => true,
        }
    }

    /// The SQLite file, if it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
}

impl FromStr for Database {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            url::Url::parse(s).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
            return Ok(Database::Postgres(s.to_owned()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() {
            return Err("a SQLite database needs a file name".into());
        }
        Ok(Database::Sqlite(PathBuf::from(path)))
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Self {
        Database::Sqlite(path.to_path_buf())
    }
}

/// Shows the file, or the URL without its password (for logs and error messages).
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    write!(f, "{parsed}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// How hard the database works to keep a commit across failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A commit survives a power loss: SQLite `synchronous=FULL`; PostgreSQL as the
    /// server is configured (by default a commit waits for its WAL flush). The default
    /// for `serve`.
    Full,
    /// A commit survives a crash of Latchkey's process, not of the machine or the
    /// database server: SQLite `synchronous=OFF` (in WAL mode a commit is in the OS's
    /// hands when it returns, so only the fsyncs are skipped) with the file held
    /// exclusively; PostgreSQL `synchronous_commit=off` (a commit returns before its WAL
    /// flush, <https://www.postgresql.org/docs/current/wal-async-commit.html>). Used by
    /// `replay`, which simulates crashes of the process only.
    ProcessCrash,
}

/// Connections each replica keeps to PostgreSQL: the HTTP handlers, the job worker and
/// the lock sync share them.
const POSTGRES_CONNECTIONS: u32 = 8;

/// Opens (creating a SQLite file if needed) the database and applies migrations.
///
/// # Errors
/// [`Error::Database`](crate::error::Error::Database) when the database cannot be opened or reached, or
/// [`Error::Migrate`](crate::error::Error::Migrate) when the schema cannot be brought up to date.
pub async fn open(database: &Database, durability: Durability) -> Result<Pool> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let pool = match database {
        Database::Sqlite(path) => open_sqlite(path, durability).await?,
        Database::Postgres(url) => {
            AnyPoolOptions::new()
                .max_connections(POSTGRES_CONNECTIONS)
                // As on SQLite, no ping before each acquire (a round trip per
                // transaction): a connection the server dropped fails its next statement,
                // is discarded, and that request or job is retried.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if durability == Durability::ProcessCrash {
                            conn.execute("SET synchronous_commit = off").await?;
                        }
                        Ok(())
                    })
                })
                .connect(url)
                .await?
        }
    };
    database.backend().migrator().run(&pool).await?;
    Ok(pool)
}

async fn open_sqlite(path: &Path, durability: Durability) -> Result<Pool> {
    // Exclusive locking spares two file-lock system calls per transaction; only a
    // process that owns the file alone may use it.
    let (synchronous, locking) = match durability {
        Durability::Full => ("FULL", "NORMAL"),
        Durability::ProcessCrash => ("OFF", "EXCLUSIVE"),
    };
    let pragmas = format!(
        "PRAGMA locking_mode = {locking}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000; \
         PRAGMA foreign_keys = ON;"
    );
    let url = format!("sqlite://{}?mode=rwc", url_path(path));
    // One connection: SQLite serialises writers anyway, and a single connection avoids
    // SQLITE_BUSY between our own tasks.
    Ok(AnyPoolOptions::new()
        .max_connections(1)
        // A ping before every acquire doubles the round trips to SQLite's worker thread;
        // a broken file surfaces on the next statement anyway.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                conn.execute(pragmas.as_str()).await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?)
}

/// `path` as the path part of a `sqlite://` URL: `%`, `?` and `#` escaped, since the
/// driver decodes the path and splits the parameters at the first `?`.
fn url_path(path: &Path) -> String {
    const ESCAPED: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b'%').add(b'?').add(b'#');
    percent_encoding::utf8_percent_encode(&path.to_string_lossy(), ESCAPED).to_string()
}

/// Serialises the caller's transaction with every other transaction that takes the same
/// `key`, until it commits or rolls back: read-then-write steps on one reservation (its
/// state, its codes, its guest notices) must not interleave across replicas.
///
/// On PostgreSQL a transaction-scoped advisory lock on a 64-bit hash of `key`
/// (`pg_advisory_xact_lock`, <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS>);
/// a hash collision only serialises two unrelated keys. On SQLite nothing: its one
/// connection already runs one transaction at a time.
///
/// # Errors
/// Database errors (on PostgreSQL, a deadlock between two such locks is reported as one,
/// and the caller's job or request is retried).
pub async fn serialize_on(conn: &mut Conn, key: &str) -> Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A boolean column: stored as the integer 0 or 1 on both databases (the Any driver
/// carries no SQLite boolean). Read a `bool` field with `#[sqlx(try_from = "IntBool")]`;
/// bind `i64::from(flag)`.
#[derive(Debug, Clone, Copy)]
pub struct IntBool(bool);

impl sqlx::Type<sqlx::Any> for IntBool {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for IntBool {
    fn decode(
        value: sqlx::any::AnyValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        Ok(IntBool(
            <i64 as sqlx::Decode<sqlx::Any>>::decode(value)? != 0,
        ))
    }
}

impl From<IntBool> for bool {
    fn from(value: IntBool) -> bool {
        value.0
    }
}

/// Numbers the placeholders of SQL built piece by piece (`$3`, `$4`, …) in the order the
/// values are bound.
#[derive(Debug)]
pub(crate) struct Placeholders(usize);

impl Placeholders {
    /// Placeholders following `bound` already written ones.
    pub(crate) fn after(bound: usize) -> Placeholders {
        Placeholders(bound)
    }

    /// The next placeholder.
    pub(crate) fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }

    /// `n` more placeholders, separated by commas (for `IN (…)`).
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_read_from_a_url_or_a_path() {
        assert_eq!(
            "postgres://u:p@db:5432/latchkey".parse::<Database>(),
            Ok(Database::Postgres("postgres://u:p@db:5432/latchkey".into()))
        );
        assert_eq!(
            "postgresql://db/x".parse::<Database>().map(|d| d.backend()),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            "sqlite://state/latchkey.db".parse::<Database>(),
            Ok(Database::Sqlite("state/latchkey.db".into()))
        );
        assert_eq!(
            "latchkey.db".parse::<Database>(),
            Ok(Database::Sqlite("latchkey.db".into()))
        );
        assert!("sqlite://".parse::<Database>().is_err());
        assert!("postgres://[bad".parse::<Database>().is_err());
    }

    #[test]
    fn a_password_never_reaches_a_log_line() {
        let db: Database = "postgres://latchkey:hunter2@db/latchkey"
            .parse()
            .expect("a URL");
        assert_eq!(db.to_string(), "postgres://latchkey:***@db/latchkey");
        assert!(!format!("{db:?}").contains("hunter2"));
    }

    #[test]
    fn placeholders_continue_the_numbering() {
        let mut p = Placeholders::after(2);
        assert_eq!(p.next(), "$3");
        assert_eq!(p.list(3), "$4, $5, $6");
    }

    #[test]
    fn odd_file_names_survive_the_url() {
        assert_eq!(
            url_path(Path::new("/tmp/a?b#c%d.db")),
            "/tmp/a%3Fb%23c%25d.db"
        );
    }
}

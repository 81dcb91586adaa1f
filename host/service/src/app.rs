//! The application: its state, built once and shared by the HTTP router, the job worker,
//! the CLI and the tests.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::extract::FromRef;
use latchkey_engine::Timestamp;
use latchkey_engine::clock::Clock;
use latchkey_engine::rules::Rule;
use latchkey_providers::{Provider, Providers};
use latchkey_store::{self as store, Durability};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::auth::gate::{AccessSettings, Gate};
use crate::catalog::Catalog;
use crate::credentials::accounts::AccountClients;
use crate::db::WorkspaceDb;
use crate::error::Result;
use crate::notify::Notifier;
use crate::planner::{CurrentRule, Planner};
use crate::queue::JobsWaiting;
use crate::rule_loader::RuleLoader;

/// What [`App::build`] needs.
#[derive(Debug)]
pub struct AppConfig {
    /// Where the state lives (a SQLite file is created if missing).
    pub database: store::Database,
    /// How hard SQLite works to keep a commit.
    pub durability: Durability,
    /// The workspace's facts and rule.
    pub catalog: Catalog,
    /// The clock everything reads.
    pub clock: Arc<dyn Clock>,
    /// Lock providers by key.
    pub providers: Providers,
    /// The lock-cloud accounts among `providers`, connected again when newer credentials
    /// are stored ([`AccountClients::none`] for a property on the simulator alone).
    pub accounts: AccountClients,
    /// Seed for PIN choice and retry jitter, so replays repeat exactly; `None` draws the
    /// generator from the operating system's entropy (production).
    pub seed: Option<u64>,
    /// The property's compiled rule file (see [`RuleLoader::file`]); an activated plugin
    /// on record takes its place.
    pub rule: Arc<dyn Rule>,
    /// Compiles plugins under the rule limits.
    pub rules: RuleLoader,
    /// Guest message templates and channels.
    pub notifier: Arc<Notifier>,
    /// The admin API's rate limit.
    pub access: AccessSettings,
    /// This process's name as a job worker, kept on the jobs it claims: a process starting
    /// under the name takes back at once the jobs it held when it stopped (`serve`:
    /// `--worker`, by default `{hostname}:{port}`). Replicas need different names.
    pub worker: String,
}

/// The shared state. Reach it through [`App`], which derefs to it.
pub struct AppState {
    /// The database.
    pub pool: store::Pool,
    /// The database, scoped to the catalog's workspace.
    pub db: WorkspaceDb,
    /// Where the database is, for what needs a connection of its own (the job worker's
    /// `LISTEN` on PostgreSQL).
    pub database: store::Database,
    /// This process's name as a job worker (see [`AppConfig::worker`]).
    pub worker: String,
    /// The workspace's facts.
    pub catalog: Catalog,
    /// The rule and the lock branch assignments every plan reads.
    pub planner: Planner,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Lock providers.
    pub providers: Providers,
    /// The lock-cloud accounts among the providers (see [`AppState::provider`]).
    pub accounts: AccountClients,
    /// Randomness for PINs and jitter (from OS entropy in `serve`, seeded in replays).
    pub rng: Mutex<StdRng>,
    /// Woken when a job is enqueued for now, so the worker need not poll.
    pub jobs_waiting: JobsWaiting,
    /// Guest message templates and channels.
    pub notifier: Arc<Notifier>,
    /// The admin API's per-caller rate limit.
    pub gate: Gate,
}

/// A cheap, cloneable handle to the application.
#[derive(Clone)]
pub struct App(Arc<AppState>);

impl Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("workspace", &self.catalog.workspace)
            .finish_non_exhaustive()
    }
}

/// What an HTTP handler may take from the application instead of all of it
/// (`State<WorkspaceDb>`).
impl FromRef<App> for WorkspaceDb {
    fn from_ref(app: &App) -> WorkspaceDb {
        app.db.clone()
    }
}

/// `State<Arc<dyn Clock>>`: the clock every instant is read from.
impl FromRef<App> for Arc<dyn Clock> {
    fn from_ref(app: &App) -> Arc<dyn Clock> {
        Arc::clone(&app.clock)
    }
}

/// `State<JobsWaiting>`: for a route that enqueues a job due now.
impl FromRef<App> for JobsWaiting {
    fn from_ref(app: &App) -> JobsWaiting {
        app.jobs_waiting.clone()
    }
}

impl AppState {
    /// Brings this process's copies of what admins change at run time (the active rule,
    /// the lock branch assignments) up to the revisions on record, and returns the rule to
    /// plan with. Call it with the connection (or transaction) the plan reads through.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh(&self, conn: &mut store::Conn) -> Result<CurrentRule> {
        self.planner.refresh(conn, &self.catalog).await
    }

    /// The provider registered under `key` (a lock's `provider`), its account first
    /// connected again if newer credentials were stored since (on any replica); `None` for
    /// a key nothing is registered under.
    ///
    /// # Errors
    /// Database errors.
    pub async fn provider(
        &self,
        conn: &mut store::Conn,
        key: &str,
    ) -> Result<Option<Arc<dyn Provider>>> {
        self.accounts
            .refresh(conn, &self.catalog.workspace, key)
            .await?;
        Ok(self.providers.get(key).cloned())
    }

    /// [`AppState::refresh`] on a connection of its own, for answers that show the active
    /// rule or a branch outside a transaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh_now(&self) -> Result<CurrentRule> {
        let mut conn = self.pool.acquire().await?;
        self.refresh(&mut conn).await
    }
}

impl App {
    /// Opens the database (migrating it) and assembles the state.
    ///
    /// # Errors
    /// Database errors.
    pub async fn build(config: AppConfig) -> Result<App> {
        let pool = store::open(&config.database, config.durability).await?;
        // The jobs this worker held when it stopped are claimable now, not in two minutes.
        {
            let mut conn = pool.acquire().await?;
            let now = config.clock.now();
            let released = store::jobs::release_held(&mut conn, &config.worker, now).await?;
            if released > 0 {
                tracing::info!(worker = %config.worker, released, "took back the jobs held before the restart");
            }
            // The capacity forecast keeps itself scheduled once started; a forecast
            // already queued keeps its turn.
            let catalog = &config.catalog;
            if catalog.locks.iter().any(|l| catalog.budget(l).is_some()) {
                let spec = crate::queue::JobSpec::ForecastCapacity;
                crate::queue::enqueue(&mut conn, &catalog.workspace, &spec, now, now).await?;
            }
            // Likewise each lock's pool of backup codes.
            for lock in catalog.locks.iter().filter(|l| catalog.backup_pool(l) > 0) {
                let spec = crate::queue::JobSpec::RefillBackups {
                    lock: lock.id.clone(),
                };
                crate::queue::enqueue(&mut conn, &catalog.workspace, &spec, now, now).await?;
            }
        }
        let planner = Planner::new(config.rule, &config.catalog, config.rules);
        let db = WorkspaceDb::new(pool.clone(), config.catalog.workspace.clone());
        let app = App(Arc::new(AppState {
            pool,
            db,
            database: config.database,
            worker: config.worker,
            catalog: config.catalog,
            planner,
            clock: config.clock,
            providers: config.providers,
            accounts: config.accounts,
            rng: Mutex::new(
                config
                    .seed
                    .map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64),
            ),
            jobs_waiting: JobsWaiting::default(),
            notifier: config.notifier,
            gate: Gate::new(config.access),
        }));
        // Loaded now so that a stored rule that no longer loads is logged at start.
        let mut conn = app.pool.acquire().await?;
        app.refresh(&mut conn).await?;
        drop(conn);
        Ok(app)
    }

    /// The earliest instant at which a job becomes due, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_job_at(&self) -> Result<Option<Timestamp>> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::jobs::next_due(&mut conn).await?)
    }

    /// Closes the database pool (a graceful stop; a crash simply drops the `App`).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

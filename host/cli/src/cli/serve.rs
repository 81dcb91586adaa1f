//! `latchkey serve`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use latchkey_engine::clock::{Clock, SystemClock};
use latchkey_engine::rules::RuleLimits;
use latchkey_providers::Providers;
use latchkey_providers::accounts;
use latchkey_providers::breaker::BreakerPolicy;
use latchkey_providers::simulator::Simulator;
use latchkey_service::app::{App, AppConfig};
use latchkey_service::auth::gate::AccessSettings;
use latchkey_service::catalog::{Catalog, CatalogFile};
use latchkey_service::credentials::accounts::{self as stored_accounts, AccountClients};
use latchkey_service::notify::Notifier;
use latchkey_service::rule_loader::RuleLoader;
use latchkey_service::telemetry::LogFormat;
use latchkey_store::{self as store, Durability};
use tokio::net::TcpListener;

use super::StoreArgs;

/// Flags of `latchkey serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the state lives and which property is served. Several replicas can share
    /// one PostgreSQL database.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Directory for compiled plugins, so a restart does not compile them again
    /// [default: beside the database, as DATABASE.wasm-cache].
    #[arg(long, env = "LATCHKEY_WASM_CACHE")]
    pub wasm_cache: Option<PathBuf>,
    /// Seconds between lock syncs (status, battery, activity log, alerts); 0 turns the
    /// periodic sync off (`POST /v1/locks/sync` still syncs on demand).
    #[arg(
        long,
        env = "LATCHKEY_SYNC_EVERY",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub sync_every: u64,
    /// Log lines as JSON objects (each with the request id of the request it belongs to),
    /// or as text for a person.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// This process's name as a job worker, kept on the jobs it runs: started again under
    /// the same name after a crash, it takes those jobs back at once instead of waiting
    /// out their two-minute leases. Replicas need different names
    /// [default: HOSTNAME:PORT, PORT from --listen].
    #[arg(long, env = "LATCHKEY_WORKER", value_name = "NAME")]
    pub worker: Option<String>,
    /// Admin API requests per second each key or user may sustain; above it the answer is
    /// 429 with Retry-After.
    #[arg(long, env = "LATCHKEY_API_RATE", default_value_t = AccessSettings::default().requests_per_second, value_name = "REQUESTS")]
    pub api_rate: NonZeroU32,
    /// Admin API requests each key or user may make at once above --api-rate.
    #[arg(long, env = "LATCHKEY_API_BURST", default_value_t = AccessSettings::default().burst, value_name = "REQUESTS")]
    pub api_burst: NonZeroU32,
}

/// `--worker`, or the host's name and the port this process listens on: stable across
/// restarts, and different for replicas on one host.
fn worker_name(args: &ServeArgs) -> String {
    args.worker.clone().unwrap_or_else(|| {
        let host = hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "latchkey".to_owned());
        format!("{host}:{}", args.listen.port())
    })
}

/// Loads a property directory: the simulator, plus every `[[accounts]]` lock cloud
/// connected from its credentials stored in `database` (read with a short-lived pool, and
/// the accounts recorded there for the API). `seed` drives the simulator's generated PINs
/// and faults.
///
/// # Errors
/// A missing or invalid property.toml; an account that cannot be connected, named, with
/// what to do (see [`stored_accounts::connect_all`]): its locks are never dropped silently.
pub(super) async fn load_catalog(
    dir: &Path,
    database: &store::Database,
    clock: Arc<dyn Clock>,
    seed: u64,
) -> anyhow::Result<(Catalog, Providers, AccountClients, Simulator)> {
    anyhow::ensure!(
        dir.join("property.toml").is_file(),
        "no property.toml in {}: run from the repository root, or pass --property DIR",
        dir.display()
    );
    let file = CatalogFile::load(dir)?;
    accounts::validate(&file.accounts)?;
    let connected = {
        let pool = store::open(database, Durability::Full)
            .await
            .with_context(|| format!("opening {database}"))?;
        let mut conn = pool.acquire().await?;
        stored_accounts::register(&mut conn, &file.workspace, &file.accounts).await?;
        let connected =
            stored_accounts::connect_all(&mut conn, &file.workspace, &file.accounts, &clock).await;
        drop(conn);
        pool.close().await;
        connected?
    };
    let simulator = Simulator::new(Arc::clone(&clock), seed);
    let providers = connected
        .providers()
        .fold(
            Providers::default().with("simulator", Arc::new(simulator.clone())),
            |providers, (key, provider)| providers.with(key, provider),
        )
        .guarded(&clock, BreakerPolicy::default());
    let catalog = file.resolve(dir, &providers, &simulator)?;
    Ok((catalog, providers, connected, simulator))
}

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (catalog, providers, accounts, _simulator) = load_catalog(
        &args.store.property,
        &args.store.database,
        clock.clone(),
        std::process::id().into(),
    )
    .await?;
    tracing::info!(workspace = %catalog.workspace, locks = catalog.locks.len(), rule = %catalog.rule_path.display(), "property loaded");
    let cache = args
        .wasm_cache
        .clone()
        .unwrap_or_else(|| match &args.store.database {
            store::Database::Sqlite(path) => {
                let mut name = path.clone().into_os_string();
                name.push(".wasm-cache");
                PathBuf::from(name)
            }
            store::Database::Postgres(_) => PathBuf::from("latchkey.wasm-cache"),
        });
    let cache = std::path::absolute(&cache)
        .with_context(|| format!("plugin cache directory {}", cache.display()))?;
    let rules = RuleLoader::new(RuleLimits::default(), Some(cache));
    let rule = rules.file(&catalog.rule_path)?;
    let notifier = Arc::new(Notifier::from_settings(&catalog.notifications, &|name| {
        std::env::var(name).ok()
    })?);
    let config = AppConfig {
        database: args.store.database.clone(),
        durability: Durability::Full,
        catalog,
        clock,
        providers,
        accounts,
        seed: None,
        rule,
        rules,
        notifier,
        access: AccessSettings {
            requests_per_second: args.api_rate,
            burst: args.api_burst,
        },
        worker: worker_name(&args),
    };
    let app = App::build(config)
        .await
        .with_context(|| format!("opening {}", args.store.database))?;
    bootstrap_admin(&app, args.listen).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(listen = %args.listen, database = %args.store.database, "latchkey is serving");
    let sync_every = (args.sync_every > 0).then(|| Duration::from_secs(args.sync_every));
    latchkey_service::server::serve(app, listener, sync_every, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM (a signal that cannot be listened for never fires).
pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// On a workspace with no admin key or user, creates an admin key and prints it once to
/// standard error (not the log: logs are kept and shipped), so that whoever started the
/// service can sign in to the dashboard and make the rest.
async fn bootstrap_admin(app: &App, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let mut conn = app.pool.acquire().await?;
    let ws = &app.catalog.workspace;
    if latchkey_store::access::has_admin(&mut conn, ws).await? {
        return Ok(());
    }
    let created = latchkey_service::auth::keys::create(
        &mut conn,
        ws,
        "first-admin",
        latchkey_engine::Role::Admin,
        "bootstrap",
        app.clock.now(),
    )
    .await?;
    eprintln!(
        "\nWorkspace `{ws}` had no admin: created the admin API key `first-admin`. It is shown \
         this once:\n\n    {}\n\nSign in with it at http://{listen}/ (or send it as \
         `Authorization: Bearer …`), then create users and keys for everyone else.\n",
        created.key
    );
    Ok(())
}

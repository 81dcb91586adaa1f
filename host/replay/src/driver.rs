//! Drives a replay: bookings → webhooks → the real HTTP handler under a simulated clock →
//! simulated locks → the oracle.
//!
//! The clock jumps from one instant to the next thing that happens: a webhook delivery or
//! a job falling due. Between deliveries every due job runs, so "issue three days before
//! arrival" and "expire at check-out + 15 min" take microseconds. With `restart-every`, the
//! service is dropped without a graceful stop and rebuilt on the same database file, as
//! after a crash; the simulated lock clouds live on, as real ones would.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::capture::Capture;
use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::rules::RuleLimits;
use latchkey_engine::{Connectivity, DoorKind, LockId, ReservationId, ResourceKind, Timestamp};
use latchkey_providers::breaker::BreakerPolicy;
use latchkey_providers::segment::{CodeSegment as HeldSegment, HeldCodes};
use latchkey_providers::simulator::{SimFaults, Simulator};
use latchkey_service::app::AppConfig;
use latchkey_service::catalog::{Catalog, CatalogFile, LockEntry};
use latchkey_service::credentials::accounts::AccountClients;
use latchkey_service::rule_loader::RuleLoader;
use latchkey_sim::scratch::ScratchDatabase;
use latchkey_sources::canonical::CanonicalEvent;
use latchkey_sources::signature;
use latchkey_store::{Backend, Database, Durability, codes, jobs as queue};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use tower::ServiceExt;

use super::bookings::read_bookings;
use super::clouds::{Clouds, ProviderMix};
use super::faults::{self, FaultSpec, FaultWindow};
use super::guests::{self, guest_notifier};
use super::inventory::build_inventory;
use super::oracle::{
    self, Acked, CodeSegment, LockHistory, OraclePolicy, Origin, Readiness, Told, UnrevocableAlert,
    Violation, ViolationKind,
};
use super::reenio::{ReenioDelivery, ReplaySource};
use super::replicas::Replicas;
use super::shadow::{Comparison, Shadowed};
use super::timeline::{PlannedWebhook, timeline};
use crate::settings::ReplaySettings;

/// What to replay, and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// CSV in the *Hotel booking demand* format.
    pub bookings: PathBuf,
    /// Property directory (time zone, stay times, shared doors, room lock mix).
    pub property: PathBuf,
    /// A rule to use instead of the property's (`.rhai` or `.wasm`).
    pub rules: Option<PathBuf>,
    /// A second rule evaluated beside the first on every rule input; the report counts
    /// the inputs on which their plans differ.
    pub compare_with: Option<PathBuf>,
    /// Faults to inject.
    pub faults: FaultSpec,
    /// Seed for every random choice (faults, PINs, jitter).
    pub seed: u64,
    /// Database: a SQLite file, or a PostgreSQL server on which the replay creates (and
    /// afterwards drops) a database of its own; a temporary SQLite file when `None`.
    pub database: Option<Database>,
    /// Service replicas sharing the database (more than one needs PostgreSQL); webhooks
    /// go to them in turn and their workers run side by side.
    pub replicas: usize,
    /// Show a progress bar on the terminal.
    pub progress: bool,
    /// Which clouds the room locks live in.
    pub providers: ProviderMix,
    /// How the bookings reach the service: canonical webhooks or reenio triggers.
    pub source: ReplaySource,
    /// Codes each simulated shared door holds at once, in place of its `max_codes` in
    /// `property.toml`; the overflow doors keep theirs. `None` keeps the property's.
    pub shared_door_capacity: Option<u32>,
}

/// Totals reported with the violations.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Bookings read.
    pub bookings: usize,
    /// Deliveries attempted (duplicates and redeliveries included).
    pub webhooks_sent: usize,
    /// Deliveries answered 2xx.
    pub webhooks_acknowledged: usize,
    /// Deliveries answered otherwise.
    pub webhooks_rejected: usize,
    /// Codes the providers accepted.
    pub codes_created: i64,
    /// Code windows changed in place.
    pub codes_updated: i64,
    /// Codes revoked.
    pub codes_revoked: i64,
    /// Alerts raised.
    pub alerts: usize,
    /// Jobs left in the dead letters.
    pub dead_letters: i64,
    /// Service restarts injected.
    pub restarts: u64,
    /// Guest messages delivered (every channel).
    pub messages_sent: usize,
    /// Provider calls answered by the simulator (the fakes' calls are not counted).
    pub provider_calls: u64,
    /// Code creations the simulator saw twice for one idempotency marker (a provider call
    /// repeated, by a retry that did not look first or by two replicas): should be 0.
    pub repeated_creates: u64,
    /// Wall time of the whole replay, in milliseconds.
    pub wall_ms: u128,
    /// With `--source reenio`: changes (modifications, room moves) reenio announces with
    /// no trigger, seen by the service only with the reservation's next trigger.
    pub unannounced_changes: usize,
    /// Codes deleted or given another PIN on their lock behind the service's back
    /// (`--faults tamper=…`).
    pub codes_tampered: usize,
    /// Codes the service's lock sync found changed on their lock and put back.
    pub codes_restored: usize,
    /// Backup codes given to guests whose own code was not on its lock in time.
    pub backups_given: usize,
    /// Lock-days the service's forecast alerted as over capacity (`capacity_exceeded`).
    pub capacity_alerts: usize,
    /// Of those, the ones first alerted at least 72 hours before the day began (local
    /// midnight): a day put over by a booking made later than that cannot be.
    pub capacity_alerts_72h_ahead: usize,
    /// Guests' codes put on an overflow door because the door it stands in for was full.
    pub overflowed: usize,
}

/// The replay's result, written as JSON by `--report`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every violation found, in time order.
    pub violations: Vec<Violation>,
    /// Totals.
    pub counts: Counts,
    /// The share of (guest, door) pairs ready when their window opened.
    pub readiness: Readiness,
    /// The comparison with `compare_with`, when one was asked for.
    pub comparison: Option<Comparison>,
}

impl Report {
    /// Violations counted by kind, for summaries.
    pub fn by_kind(&self) -> Vec<(ViolationKind, usize)> {
        let mut counts: HashMap<ViolationKind, usize> = HashMap::new();
        for v in &self.violations {
            *counts.entry(v.kind).or_default() += 1;
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort_by_key(|(k, _)| *k);
        out
    }
}

/// A day after the last departure, so every window has ended and every job settled.
const SETTLE_SECS: i64 = 2 * 86_400;

/// Runs a replay on a thread of its own, pinned to one CPU core, with a single-threaded
/// runtime.
///
/// A replay is one sequential simulation that talks to SQLite thousands of times a second.
/// The driver hands every statement to the SQLite worker thread; on one core that hand-off
/// is a local context switch, across cores a wake-up interrupt, which made replays
/// four times slower on a 2-core machine. Threads inherit the affinity of the thread that
/// starts them, so the database worker lands on the same core.
///
/// # Errors
/// As [`run`].
pub fn run_blocking(opts: ReplayOptions) -> anyhow::Result<Report> {
    let thread = std::thread::Builder::new()
        .name("replay".into())
        .spawn(move || {
            // Concurrent replays take cores in turn: those of one process by this counter,
            // those of cargo-nextest's processes (one per test) by the slot it gives each.
            static NEXT_CORE: AtomicUsize = AtomicUsize::new(0);
            let slot = std::env::var("NEXTEST_TEST_GLOBAL_SLOT")
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(0);
            if let Some(ids) = core_affinity::get_core_ids().filter(|ids| !ids.is_empty()) {
                let turn = NEXT_CORE.fetch_add(1, Ordering::Relaxed) + slot;
                let core = ids[turn % ids.len()];
                core_affinity::set_for_current(core);
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run(&opts))
        })?;
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the replay thread panicked"))?
}

/// Runs a replay on the current runtime.
///
/// # Errors
/// Unreadable inputs or an invalid property; a failure of the service itself (its
/// database); never a violation, which is reported instead.
pub async fn run(opts: &ReplayOptions) -> anyhow::Result<Report> {
    let started = Instant::now();
    let file = std::fs::File::open(&opts.bookings)
        .with_context(|| format!("opening {}", opts.bookings.display()))?;
    let bookings = read_bookings(std::io::BufReader::new(file))
        .with_context(|| format!("reading {}", opts.bookings.display()))?;
    if bookings.is_empty() {
        bail!("{} holds no bookings", opts.bookings.display());
    }
    let mut file = CatalogFile::load(&opts.property)?;
    if let Some(capacity) = opts.shared_door_capacity {
        let overflow_doors: HashSet<LockId> = file
            .locks
            .iter()
            .filter_map(|l| l.overflow.clone())
            .collect();
        file.locks
            .iter_mut()
            .filter(|l| l.door == DoorKind::Shared && l.simulator.is_some())
            .filter(|l| !overflow_doors.contains(&l.id))
            .for_each(|l| l.max_codes = Some(capacity));
    }
    let inventory = build_inventory(&bookings, &file.property)?;
    let planned = timeline(&bookings, &inventory, &file.property)?;
    let first = planned.first().map_or(Timestamp(0), |w| w.send_at);
    let end = planned
        .iter()
        .map(|w| w.reservation.check_out.max(w.send_at))
        .max()
        .unwrap_or(first)
        .plus(SETTLE_SECS);

    if let Some(rules) = &opts.rules {
        file.rules = std::fs::canonicalize(rules)
            .with_context(|| format!("rule file {}", rules.display()))?;
    }
    let clock = SimClock::new(first.plus(-3600));
    let simulator = Simulator::new(Arc::new(clock.clone()), opts.seed);
    let sim_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let clouds = Clouds::start(
        opts.providers,
        inventory.rooms.len(),
        &simulator,
        &sim_clock,
    )
    .await?;
    add_rooms(&mut file, &inventory.rooms, &clouds, opts.providers)?;
    let mut reenio = match opts.source {
        ReplaySource::Canonical => None,
        ReplaySource::Reenio => {
            Some(ReenioDelivery::start(&mut file, &inventory.rooms, Arc::clone(&sim_clock)).await?)
        }
    };
    let providers = clouds
        .providers
        .clone()
        .guarded(&sim_clock, BreakerPolicy::default());
    let catalog = file.resolve(&opts.property, &providers, &simulator)?;
    let mut reenio = match reenio.take() {
        Some((delivery, client)) => {
            delivery.connect(&catalog, client)?;
            Some(delivery)
        }
        None => None,
    };

    let mut rng = StdRng::seed_from_u64(opts.seed);
    simulator.set_faults(SimFaults {
        error_rate: opts.faults.provider_error,
        timeout_rate: opts.faults.provider_timeout,
    });
    // Outages are the simulator's to inject; the fakes' own faults are their contract
    // tests' business.
    let lock_ids: Vec<LockId> = catalog
        .locks
        .iter()
        .filter(|l| l.provider == "simulator")
        .map(|l| l.id.clone())
        .collect();
    let outages = faults::outages(&lock_ids, first, end, &opts.faults, &mut rng);
    // Codes are changed behind our back on the online locks of the clouds that list them.
    let tamperable: Vec<faults::TamperTarget> = catalog
        .locks
        .iter()
        .filter(|l| l.capabilities.connectivity == Connectivity::Online)
        .filter_map(|l| {
            Some(faults::TamperTarget {
                lock: l.id.clone(),
                cloud: Arc::clone(clouds.tamperable.get(&l.provider)?),
                device: l.device.clone()?,
            })
        })
        .collect();
    let mut tampers: Vec<FaultWindow> = Vec::new();
    let mut unsynced: Vec<LockId> = Vec::new();
    for o in &outages {
        if let Some(device) = catalog.lock(&o.lock).and_then(|l| l.device.as_deref()) {
            simulator.add_outage(
                device,
                latchkey_engine::Window {
                    starts_at: o.from,
                    ends_at: o.until,
                },
            );
        }
    }
    let planned = match opts.source {
        ReplaySource::Canonical => planned,
        ReplaySource::Reenio => super::reenio::with_start_reminders(planned),
    };
    let deliveries = faults::apply_delivery_faults(planned, &opts.faults, &mut rng);

    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let (database, scratch) = match &opts.database {
        Some(Database::Postgres(server)) => {
            let scratch = ScratchDatabase::create(server, "replay").await?;
            (scratch.database.clone(), Some(scratch))
        }
        Some(file) => (file.clone(), None),
        None => (Database::Sqlite(tmp.path().join("replay.db")), None),
    };
    let source = catalog
        .sources
        .first()
        .context("the property declares no webhook source")?
        .clone();
    // Compiled once: a restart simulates a crashed process, and a real one would find the
    // compiled rule in the cache.
    let loader = RuleLoader::new(RuleLimits::default(), None);
    let mut rule = loader.file(&catalog.rule_path)?;
    let shadowed = match &opts.compare_with {
        Some(path) => {
            let shadowed = Arc::new(Shadowed::new(rule, loader.file(path)?));
            rule = shadowed.clone();
            Some(shadowed)
        }
        None => None,
    };
    // Every guest's inbox, read by the oracle.
    let inbox = Capture::new();
    let notifier = Arc::new(guest_notifier(&catalog, &inbox)?);
    let config = |catalog: Catalog, replica: usize| AppConfig {
        database: database.clone(),
        durability: Durability::ProcessCrash,
        catalog,
        clock: Arc::new(clock.clone()) as Arc<dyn Clock>,
        providers: providers.clone(),
        // The fakes' clients are registered directly: no credentials on record to follow.
        accounts: AccountClients::none(),
        // Each replica draws its own PINs and jitter, as separate processes would.
        seed: Some(opts.seed.wrapping_add(replica as u64)),
        rule: Arc::clone(&rule),
        rules: loader.clone(),
        notifier: Arc::clone(&notifier),
        access: latchkey_service::auth::gate::AccessSettings::unlimited(),
        worker: format!("replica-{replica}"),
    };
    anyhow::ensure!(
        opts.replicas <= 1 || database.backend() == Backend::Postgres,
        "{} replicas need a database they can share: pass --database postgres://…",
        opts.replicas
    );
    let start = || Replicas::start(opts.replicas, |n| config(catalog.clone(), n));
    let mut service = start().await?;
    // The oracle reads the service's state through its API, as an admin would.
    let api_key = {
        let app = service.primary();
        let mut conn = app.pool.acquire().await?;
        let role = latchkey_engine::Role::Admin;
        latchkey_service::auth::keys::create(
            &mut conn,
            &catalog.workspace,
            "replay-oracle",
            role,
            "replay",
            app.clock.now(),
        )
        .await?
        .key
    };

    let progress = progress_bar(opts.progress, deliveries.len());
    let mut counts = Counts {
        bookings: bookings.len(),
        ..Counts::default()
    };
    let mut acked = Vec::new();
    for (n, delivery) in deliveries.iter().enumerate() {
        settle(&service, &clock, delivery.deliver_at).await?;
        clock.advance_to(delivery.deliver_at);
        let sent = match reenio.as_mut() {
            Some(reenio) => {
                reenio
                    .deliver(service.next_routes(), &delivery.webhook)
                    .await?
            }
            None => Some((
                deliver(
                    service.next_routes(),
                    &source.name,
                    source.canonical_secret()?,
                    &delivery.webhook,
                    clock.now(),
                )
                .await?,
                delivery.webhook.reservation.clone(),
            )),
        };
        // `None`: a change reenio announces with no trigger; nothing was sent.
        if let Some((status, state)) = sent {
            counts.webhooks_sent += 1;
            if status.is_success() {
                counts.webhooks_acknowledged += 1;
                acked.push(Acked {
                    reservation: state,
                    webhook_id: delivery.webhook.webhook_id.clone(),
                    acked_at: clock.now(),
                });
            } else {
                counts.webhooks_rejected += 1;
                tracing::warn!(webhook = %delivery.webhook.webhook_id, %status, "webhook rejected");
            }
        }
        // A lock whose sync failed right after a change behind our back is synced again,
        // as the periodic sync would.
        let retry = std::mem::take(&mut unsynced);
        for lock in retry {
            sync_after_tamper(&service, &lock, &mut counts, &mut unsynced).await?;
        }
        if faults::chance(&mut rng, opts.faults.tamper) {
            let now = clock.now();
            let reachable: Vec<faults::TamperTarget> = tamperable
                .iter()
                .filter(|t| {
                    !outages
                        .iter()
                        .any(|o| o.lock == t.lock && o.from <= now && now < o.until)
                })
                .cloned()
                .collect();
            if let Some(lock) = faults::tamper_one(&reachable, now, &mut rng) {
                counts.codes_tampered += 1;
                // The oracle allows the service its grace from this instant on.
                tampers.push(FaultWindow {
                    lock: lock.clone(),
                    from: now,
                    until: now,
                });
                sync_after_tamper(&service, &lock, &mut counts, &mut unsynced).await?;
            }
        }
        if opts.faults.restart_every > 0 && (n as u64 + 1).is_multiple_of(opts.faults.restart_every)
        {
            // A crash: no graceful stop, no pool close; the file stays as the OS left it.
            drop(service);
            service = start().await?;
            counts.restarts += 1;
        }
        progress.inc(1);
    }
    settle(&service, &clock, end).await?;
    progress.finish_and_clear();

    let told = guests::told(&inbox);
    counts.messages_sent = told.len();
    let faults_seen: Vec<FaultWindow> = outages.iter().chain(&tampers).cloned().collect();
    let Judgement {
        mut violations,
        alerts,
        backups_given,
        capacity_alerts,
        overflowed,
        readiness,
    } = judge(
        Api {
            routes: service.primary_routes(),
            key: &api_key,
        },
        &catalog,
        &clouds.models,
        &acked,
        &faults_seen,
        &told,
        end,
    )
    .await?;
    if let Some(reenio) = &reenio {
        counts.unannounced_changes = reenio.unannounced;
        for v in &mut violations {
            if let Some(id) = v.reservation.as_ref().and_then(|id| reenio.replay_id(id)) {
                v.reservation = Some(id.clone());
            }
        }
    }
    let mut conn = service.primary().pool.acquire().await?;
    let totals = codes::totals(&mut conn, &catalog.workspace).await?;
    counts.codes_created = totals.created;
    counts.codes_updated = totals.updated;
    counts.codes_revoked = totals.revoked;
    counts.dead_letters = queue::count_dead(&mut conn, &catalog.workspace).await?;
    drop(conn);
    counts.alerts = alerts;
    counts.backups_given = backups_given;
    counts.capacity_alerts = capacity_alerts.len();
    counts.capacity_alerts_72h_ahead = capacity_alerts
        .iter()
        .filter(|a| a.lead_secs >= 72 * 3600)
        .count();
    counts.overflowed = overflowed;
    counts.provider_calls = simulator.calls();
    counts.repeated_creates = simulator.repeated_creates();
    counts.wall_ms = started.elapsed().as_millis();
    if let Some(scratch) = scratch {
        service.close().await;
        scratch.drop_database().await?;
    }
    Ok(Report {
        violations,
        counts,
        readiness,
        comparison: shadowed.map(|s| s.comparison()),
    })
}

/// Adds the derived rooms, each with its own lock, to the property: on the simulator with
/// the property's profiles, or placed in turn on the clouds (see [`Clouds::place`]).
fn add_rooms(
    file: &mut CatalogFile,
    rooms: &[super::inventory::Room],
    clouds: &Clouds,
    mix: ProviderMix,
) -> anyhow::Result<()> {
    let settings = ReplaySettings::from_table(&file.replay).context("[replay] in property.toml")?;
    let branch = match &settings.branch {
        Some(b) => b.clone(),
        None => file
            .branches
            .first()
            .map(|b| b.id.clone())
            .context("the property declares no branch")?,
    };
    let profiles = settings.room_lock_profiles;
    anyhow::ensure!(
        !profiles.is_empty(),
        "[replay] room_lock_profiles must not be empty"
    );
    for (i, room) in rooms.iter().enumerate() {
        let placed = clouds.place(mix, i);
        let on_simulator = placed.as_ref().is_none_or(|(key, _)| key == "simulator");
        let room_lock = profiles[i % profiles.len()];
        file.resources.push(latchkey_engine::Resource {
            id: room.resource.clone(),
            kind: ResourceKind::Room,
            branch: branch.clone(),
            name: format!("Room {}", room.resource),
        });
        file.locks.push(LockEntry {
            instructions: None,
            overflow: None,
            id: room.lock_id().map_err(anyhow::Error::msg)?,
            name: format!("Room {}", room.resource),
            door: DoorKind::Private,
            branch: Some(branch.clone()),
            resources: vec![room.resource.clone()],
            provider: Some(
                placed
                    .as_ref()
                    .map_or_else(|| "simulator".to_owned(), |(key, _)| key.clone()),
            ),
            simulator: on_simulator.then(|| room_lock.profile()),
            max_codes: on_simulator.then(|| room_lock.max_codes()).flatten(),
            device: placed
                .filter(|(key, _)| key != "simulator")
                .map(|(_, device)| device),
        });
    }
    Ok(())
}

/// Syncs `lock` after a change behind the service's back, as its cloud's notice of the
/// change (a Nuki `DEVICE_AUTHS` or Seam `access_code.*` webhook) makes the service do.
/// A provider fault can fail a sync: it is tried a few times, then left in `unsynced`
/// for the next delivery, as the periodic sync would try again.
async fn sync_after_tamper(
    service: &Replicas,
    lock: &LockId,
    counts: &mut Counts,
    unsynced: &mut Vec<LockId>,
) -> anyhow::Result<()> {
    for _ in 0..5 {
        let report = latchkey_service::monitor::sync_lock_now(service.primary(), lock).await?;
        tracing::debug!(%lock, ?report, "lock synced after a change behind the service's back");
        counts.codes_restored += report.codes_restored;
        if report.failed == 0 {
            return Ok(());
        }
    }
    unsynced.push(lock.clone());
    Ok(())
}

/// Runs every job due up to `until`, moving the clock to each due instant in turn.
async fn settle(service: &Replicas, clock: &SimClock, until: Timestamp) -> anyhow::Result<()> {
    loop {
        service.run_due_jobs().await?;
        match service.primary().next_job_at().await? {
            Some(at) if at <= until => clock.advance_to(at),
            _ => return Ok(()),
        }
    }
}

/// Signs and posts one webhook through the router, as the platform would.
async fn deliver(
    routes: &Router,
    source: &str,
    secret: &str,
    w: &PlannedWebhook,
    now: Timestamp,
) -> anyhow::Result<StatusCode> {
    let event = CanonicalEvent {
        kind: w.event,
        timestamp: Some(w.send_at),
        data: w.reservation.clone(),
    };
    let body = serde_json::to_vec(&event)?;
    let sig = signature::sign(secret, &w.webhook_id, now, &body)?;
    let request = Request::post(format!("/v1/hooks/{source}"))
        .header("content-type", "application/json")
        .header("webhook-id", &w.webhook_id)
        .header("webhook-timestamp", now.unix().to_string())
        .header("webhook-signature", sig)
        .body(Body::from(body))?;
    let response = routes.clone().oneshot(request).await?;
    Ok(response.status())
}

/// The service's API as the oracle reads it: its router, and an admin key.
#[derive(Debug, Clone, Copy)]
pub struct Api<'a> {
    /// The router.
    pub routes: &'a Router,
    /// An admin API key.
    pub key: &'a str,
}

async fn get_json(api: Api<'_>, path: &str) -> anyhow::Result<serde_json::Value> {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {}", api.key))
        .body(Body::empty())?;
    let response = api.routes.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(status.is_success(), "GET {path}: {status}");
    Ok(serde_json::from_slice(&bytes)?)
}

/// Asks the service (over its API, `api`) which codes belong to which reservation and
/// what it holds, asks each lock's model (by provider key) what the lock held, and hands
/// both, with what guests were `told`, to the oracle with the default hotel policy:
/// the violations, the number of alerts raised and the arrival readiness.
///
/// # Errors
/// When the service does not answer its API.
pub async fn judge(
    api: Api<'_>,
    catalog: &Catalog,
    models: &HashMap<String, Arc<dyn HeldCodes>>,
    acked: &[Acked],
    outages: &[FaultWindow],
    told: &[Told],
    end: Timestamp,
) -> anyhow::Result<Judgement> {
    let policy = OraclePolicy {
        requires_payment: catalog.property.requires_payment,
        ..OraclePolicy::default()
    };
    let mut owner_of_marker: HashMap<String, ReservationId> = HashMap::new();
    // Backup codes given to a guest: when, by marker.
    let mut given_at: HashMap<String, Timestamp> = HashMap::new();
    let mut final_versions: HashMap<ReservationId, u64> = HashMap::new();
    let mut ids: Vec<&ReservationId> = acked.iter().map(|a| &a.reservation.id).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let view = get_json(api, &format!("/v1/reservations/{id}")).await?;
        final_versions.insert(
            id.clone(),
            view["reservation"]["version"].as_u64().unwrap_or(0),
        );
        for code in view["codes"].as_array().into_iter().flatten() {
            if let Some(code_id) = code["id"].as_i64() {
                owner_of_marker.insert(format!("lk-{code_id}"), id.clone());
                if let Some(at) = code["pulled_at"].as_i64() {
                    given_at.insert(format!("lk-{code_id}"), Timestamp(at));
                }
            }
        }
    }
    let alerts_view = get_json(api, "/v1/alerts").await?;
    let all_alerts = alerts_view["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unrevocable: Vec<UnrevocableAlert> = all_alerts
        .iter()
        .filter(|a| a["kind"] == "unrevocable")
        .filter_map(|a| {
            Some(UnrevocableAlert {
                lock: LockId::parse(a["lock_id"].as_str()?).ok()?,
                reservation: ReservationId::parse(a["reservation_id"].as_str()?).ok()?,
                raised_at: Timestamp(a["raised_at"].as_i64()?),
            })
        })
        .collect();
    // The codes of the locks' backup pools that were never given to anyone.
    let mut pooled: HashSet<String> = HashSet::new();
    for lock in catalog.locks.iter().filter(|l| catalog.backup_pool(l) > 0) {
        let pool = get_json(api, &format!("/v1/locks/{}/backups", lock.id)).await?;
        for code in pool["codes"].as_array().into_iter().flatten() {
            if let Some(code_id) = code["id"].as_i64() {
                pooled.insert(format!("lk-{code_id}"));
            }
        }
    }
    let mut histories: Vec<LockHistory> = catalog
        .locks
        .iter()
        .map(|lock| LockHistory {
            lock: lock.id.clone(),
            door: lock.door,
            branch: lock.branch.clone(),
            resources: lock.resources.clone(),
            precision: lock.capabilities.precision,
            overflow: lock.overflow.clone(),
            segments: models
                .get(&lock.provider)
                .map(|m| m.history(lock.device_id()))
                .unwrap_or_default()
                .into_iter()
                .flat_map(|s| segments_of(s, &owner_of_marker, &given_at, &pooled))
                .collect(),
        })
        .collect();
    // Who holds each code is what guests were told, not the service's records.
    oracle::attach_riders(&mut histories, told);
    let mut violations = oracle::check(
        &policy,
        &catalog.property,
        acked,
        &histories,
        outages,
        &unrevocable,
        &final_versions,
        end,
    );
    // The default policy tells guests by e-mail; the replay's guests all have an address.
    let expected = ["email".to_owned()];
    violations.extend(oracle::check_told(
        &policy,
        &catalog.property,
        acked,
        &histories,
        outages,
        told,
        &expected,
        end,
    ));
    violations.sort_by(|a, b| {
        (a.at, a.kind, &a.reservation, &a.lock).cmp(&(b.at, b.kind, &b.reservation, &b.lock))
    });
    let readiness = oracle::readiness(
        &policy,
        &catalog.property,
        acked,
        &histories,
        told,
        &expected,
        end,
    );
    let overflow_doors: HashSet<&LockId> = catalog
        .locks
        .iter()
        .filter_map(|l| l.overflow.as_ref())
        .collect();
    let overflowed = histories
        .iter()
        .filter(|h| overflow_doors.contains(&h.lock))
        .flat_map(|h| &h.segments)
        .filter(|s| s.origin == Origin::Planned && s.reservation.is_some())
        .count();
    Ok(Judgement {
        violations,
        alerts: all_alerts.len(),
        backups_given: all_alerts
            .iter()
            .filter(|a| a["kind"] == "backup_code_given")
            .count(),
        capacity_alerts: capacity_alerts(&all_alerts, catalog.property.timezone),
        overflowed,
        readiness,
    })
}

/// A lock-day the forecast alerted as over capacity, and how long before the day began
/// (local midnight) it was first alerted, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityAlert {
    /// The lock.
    pub lock: String,
    /// The property's local day.
    pub day: chrono::NaiveDate,
    /// Seconds from the alert to the day's local midnight; negative when raised on the day.
    pub lead_secs: i64,
}

/// The `capacity_exceeded` alerts among `alerts` (the API's view), one per lock and day.
/// The day is the one the message names (`… on YYYY-MM-DD (local time)`, written by
/// `capacity::raise_alerts`); the service raises one alert per lock and day.
fn capacity_alerts(alerts: &[serde_json::Value], tz: chrono_tz::Tz) -> Vec<CapacityAlert> {
    alerts
        .iter()
        .filter(|a| a["kind"] == "capacity_exceeded")
        .filter_map(|a| {
            let message = a["message"].as_str()?;
            let at = message.find(" (local time)")?;
            let day = chrono::NaiveDate::parse_from_str(
                message.get(at.checked_sub(10)?..at)?,
                "%Y-%m-%d",
            )
            .ok()?;
            let midnight = latchkey_engine::time::at_local(
                day,
                latchkey_engine::time::LocalTime::new(0, 0)?,
                tz,
            );
            Some(CapacityAlert {
                lock: a["lock_id"].as_str()?.to_owned(),
                day,
                lead_secs: midnight.unix() - a["raised_at"].as_i64()?,
            })
        })
        .collect()
}

/// The oracle's view of one code's presence on a lock: its owner by marker; a backup code
/// never given is its pool's, and one given to a guest is split at the instant it was
/// given (before it, the pool's; from then on, the guest's).
fn segments_of(
    s: HeldSegment,
    owner_of_marker: &HashMap<String, ReservationId>,
    given_at: &HashMap<String, Timestamp>,
    pooled: &HashSet<String>,
) -> Vec<CodeSegment> {
    let segment = |reservation: Option<ReservationId>, origin, from, until| CodeSegment {
        reservation,
        origin,
        pin: s.pin.as_str().to_owned(),
        window: s.window,
        present_from: from,
        present_until: until,
        riders: Vec::new(),
    };
    if pooled.contains(&s.marker) {
        return vec![segment(None, Origin::Pool, s.present_from, s.present_until)];
    }
    let owner = owner_of_marker.get(&s.marker).cloned();
    let Some(&given) = given_at.get(&s.marker) else {
        return vec![segment(
            owner,
            Origin::Planned,
            s.present_from,
            s.present_until,
        )];
    };
    let mut out = Vec::new();
    if s.present_from < given {
        let until = s.present_until.map_or(given, |u| u.min(given));
        out.push(segment(None, Origin::Pool, s.present_from, Some(until)));
    }
    if s.present_until.is_none_or(|u| u > given) {
        let from = s.present_from.max(given);
        out.push(segment(owner, Origin::Given, from, s.present_until));
    }
    out
}

/// What the oracle found in a replay.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// Every violation, in time order.
    pub violations: Vec<Violation>,
    /// Alerts the service raised.
    pub alerts: usize,
    /// Backup codes given to guests (one `backup_code_given` alert each).
    pub backups_given: usize,
    /// The lock-days alerted as over capacity.
    pub capacity_alerts: Vec<CapacityAlert>,
    /// Guests' codes on overflow doors.
    pub overflowed: usize,
    /// The arrival readiness.
    pub readiness: Readiness,
}

fn progress_bar(enabled: bool, len: usize) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} webhooks ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

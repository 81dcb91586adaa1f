//! `TestApp`: the service assembled as `serve` assembles it, on a temporary SQLite file,
//! with a simulated clock and the simulator; plus a signing client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use latchkey_engine::Timestamp;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::rules::RuleLimits;
use latchkey_providers::breaker::BreakerPolicy;
use latchkey_providers::simulator::Simulator;
use latchkey_providers::{Provider, Providers};
use latchkey_replay::capture::Capture;
use latchkey_service::app::{App, AppConfig};
use latchkey_service::catalog::{Catalog, CatalogFile};
use latchkey_service::credentials::accounts::AccountClients;
use latchkey_service::notify::Notifier;
use latchkey_service::notify::channels::Sender;
use latchkey_service::notify::settings::SMS_TOKEN_ENV;
use latchkey_service::rule_loader::RuleLoader;
use latchkey_sim::scratch::ScratchDatabase;
use latchkey_sources::signature;
use latchkey_store::{Database, Durability};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The example hotel's published test secret for the `demo` source.
pub const DEMO_SECRET: &str = "whsec_zNLR+bTPxvKLHY4iLDOs2bkgI3WOytRw";

/// The SMS gateway's auth token the harness gives the service.
pub const SMS_AUTH_TOKEN: &str = "twilio-test-token";

/// The recipient of callback messages when the property configures no callback.
pub const CAPTURED_CALLBACK_URL: &str = "https://platform.example/latchkey";

/// The example property directory.
pub fn hotel_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/hotel")
}

/// An instant from RFC 3339 text.
pub fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("valid RFC 3339 instant")
}

/// A response: status, content type and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    /// The body as text, for answers that are not JSON.
    pub text: String,
    /// The answer's headers.
    pub headers: axum::http::HeaderMap,
}

/// Sends `request` through `router` and reads the whole answer.
pub async fn reply_of(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
        headers,
    }
}

/// The environment variable naming a PostgreSQL server (`postgres://user@host/db`): when
/// set, every test app keeps its state in a fresh database of its own on that server
/// instead of a SQLite file, so that the whole suite runs on either store.
pub const POSTGRES_ENV: &str = "LATCHKEY_TEST_POSTGRES";

/// Where a test app keeps its state: a SQLite file in its directory, or a scratch
/// PostgreSQL database dropped with it.
pub struct TestDatabase {
    pub database: Database,
    scratch: Option<ScratchDatabase>,
}

/// The PostgreSQL server tests that need one use when [`POSTGRES_ENV`] names none.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl TestDatabase {
    /// A SQLite file in `dir`, or a scratch database on the server [`POSTGRES_ENV`] names.
    pub async fn new(dir: &Path) -> TestDatabase {
        match std::env::var(POSTGRES_ENV) {
            Ok(server) if !server.is_empty() => TestDatabase::on_server(&server).await,
            _ => TestDatabase {
                database: Database::Sqlite(dir.join("latchkey.db")),
                scratch: None,
            },
        }
    }

    /// A scratch database on the server [`POSTGRES_ENV`] names, or on
    /// [`DEFAULT_POSTGRES`]: for tests of replicas, which only PostgreSQL serves.
    pub async fn postgres() -> TestDatabase {
        let server = std::env::var(POSTGRES_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned());
        TestDatabase::on_server(&server).await
    }

    async fn on_server(server: &str) -> TestDatabase {
        let scratch = ScratchDatabase::create(server, "test")
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} (set {POSTGRES_ENV}): {e}"));
        TestDatabase {
            database: scratch.database.clone(),
            scratch: Some(scratch),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            // Drop runs inside the test's runtime, which cannot block on itself.
            let dropped = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(scratch.drop_database()))
            })
            .join();
            if !matches!(dropped, Ok(Ok(Ok(())))) {
                eprintln!("a scratch PostgreSQL database was left behind");
            }
        }
    }
}

pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub clock: SimClock,
    pub simulator: Simulator,
    /// What guests were told on the channels the property does not configure.
    pub capture: Capture,
    catalog: Catalog,
    providers: Providers,
    dir: tempfile::TempDir,
    /// Declared after `app` and `router`, so that their connections close before the
    /// scratch database is dropped.
    database: TestDatabase,
    next_id: std::sync::atomic::AtomicU64,
    /// An admin API key, sent by [`TestApp::request`] when a request carries no
    /// credentials of its own.
    admin_key: String,
}

/// The test app's admin API key.
pub fn admin_key(app: &TestApp) -> String {
    app.admin_key.clone()
}

/// Creates an API key of `role` named `name` in the example workspace.
pub async fn create_key(app: &App, name: &str, role: latchkey_engine::Role) -> String {
    let mut conn = app.pool.acquire().await.expect("connection");
    latchkey_service::auth::keys::create(
        &mut conn,
        &app.catalog.workspace,
        name,
        role,
        "test",
        app.clock.now(),
    )
    .await
    .expect("key created")
    .key
}

/// The job worker name of a test's app, the same after a restart.
pub const TEST_WORKER: &str = "test";

/// Numbers the replicas' worker names: every replica is a process of its own.
static NEXT_REPLICA: AtomicU32 = AtomicU32::new(1);

/// Assembles the service as `serve` does, on `dir`'s database and plugin cache.
async fn build(
    dir: &Path,
    database: &Database,
    catalog: &Catalog,
    clock: &SimClock,
    providers: &Providers,
    capture: &Capture,
    worker: &str,
) -> App {
    let rules = RuleLoader::new(RuleLimits::default(), Some(dir.join("wasm-cache")));
    // The property's channels where it configures them, the capture for the others, so
    // that every test can read what guests were told.
    let secrets = |name: &str| (name == SMS_TOKEN_ENV).then(|| SMS_AUTH_TOKEN.to_owned());
    let mut notifier =
        Notifier::from_settings(&catalog.notifications, &secrets).expect("notification settings");
    let captured: Arc<dyn Sender> = Arc::new(capture.clone());
    let senders = &mut notifier.senders;
    senders.email.get_or_insert_with(|| captured.clone());
    senders.sms.get_or_insert_with(|| captured.clone());
    if senders.callback.is_none() {
        senders.callback = Some(captured);
        notifier.callback_url = Some(CAPTURED_CALLBACK_URL.into());
    }
    let config = AppConfig {
        database: database.clone(),
        durability: Durability::Full,
        catalog: catalog.clone(),
        clock: Arc::new(clock.clone()),
        providers: providers.clone(),
        accounts: AccountClients::none(),
        seed: Some(7),
        rule: rules.file(&catalog.rule_path).expect("rule compiles"),
        rules,
        notifier: Arc::new(notifier),
        access: Default::default(),
        worker: worker.to_owned(),
    };
    App::build(config).await.expect("app builds")
}

impl TestApp {
    /// The example hotel with its own rule, the clock at `now`.
    pub async fn spawn(now: &str) -> TestApp {
        TestApp::spawn_with_rule(now, None).await
    }

    /// The example hotel with its backup pools (`[backup]`), the clock at `now`.
    pub async fn spawn_with_backups(now: &str) -> TestApp {
        let pool_size = CatalogFile::load(&hotel_dir())
            .expect("example property loads")
            .backup
            .pool_size;
        assert!(pool_size > 0, "the example hotel keeps backup codes");
        let clock = SimClock::new(at(now));
        TestApp::spawn_with(clock, None, |f| f.backup.pool_size = pool_size, Vec::new()).await
    }

    /// The example hotel with `rule` (Rhai source) instead of the default rule.
    pub async fn spawn_with_rule(now: &str, rule: Option<&str>) -> TestApp {
        TestApp::spawn_with(SimClock::new(at(now)), rule, |_| {}, Vec::new()).await
    }

    /// The example hotel on `clock`, with `rule` (Rhai source) if given, its property
    /// edited by `edit`, and `more` providers beside the simulator.
    pub async fn spawn_with(
        clock: SimClock,
        rule: Option<&str>,
        edit: impl FnOnce(&mut CatalogFile),
        more: Vec<(&str, Arc<dyn Provider>)>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::new(dir.path()).await;
        TestApp::spawn_on(dir, database, clock, rule, edit, more).await
    }

    /// The example hotel, the clock at `now`, on a scratch PostgreSQL database whatever
    /// [`POSTGRES_ENV`] says: the first of several replicas (see [`TestApp::replica`]).
    pub async fn spawn_on_postgres(now: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::postgres().await;
        TestApp::spawn_on(
            dir,
            database,
            SimClock::new(at(now)),
            None,
            |_| {},
            Vec::new(),
        )
        .await
    }

    async fn spawn_on(
        dir: tempfile::TempDir,
        database: TestDatabase,
        clock: SimClock,
        rule: Option<&str>,
        edit: impl FnOnce(&mut CatalogFile),
        more: Vec<(&str, Arc<dyn Provider>)>,
    ) -> TestApp {
        let simulator = Simulator::new(Arc::new(clock.clone()), 42);
        let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let providers = more
            .into_iter()
            .fold(
                Providers::default().with("simulator", Arc::new(simulator.clone())),
                |providers, (key, provider)| providers.with(key, provider),
            )
            .guarded(&shared_clock, BreakerPolicy::default());
        let mut file = CatalogFile::load(&hotel_dir()).expect("example property loads");
        // The example hotel keeps backup pools on its online locks. Tests of anything
        // else start without them, so the codes, jobs and calls they count are their own;
        // [`TestApp::spawn_with_backups`] keeps the example's.
        file.backup.pool_size = 0;
        if let Some(source) = rule {
            let path = dir.path().join("rule.rhai");
            std::fs::write(&path, source).expect("write rule");
            file.rules = path;
        }
        edit(&mut file);
        let catalog = file
            .resolve(&hotel_dir(), &providers, &simulator)
            .expect("example property resolves");
        let capture = Capture::new();
        let app = build(
            dir.path(),
            &database.database,
            &catalog,
            &clock,
            &providers,
            &capture,
            TEST_WORKER,
        )
        .await;
        let router = latchkey_service::http::router(app.clone());
        let admin_key = create_key(&app, "test-admin", latchkey_engine::Role::Admin).await;
        TestApp {
            app,
            router,
            clock,
            simulator,
            capture,
            catalog,
            providers,
            dir,
            database,
            next_id: 1.into(),
            admin_key,
        }
    }

    /// The service started again on the same database and plugin cache, as after a
    /// restart of the process (a new rule loader and WebAssembly runtime).
    pub async fn restart(self) -> TestApp {
        let TestApp {
            app,
            router,
            clock,
            simulator,
            capture,
            catalog,
            providers,
            dir,
            database,
            next_id,
            admin_key,
        } = self;
        drop(router);
        app.close().await;
        let app = build(
            dir.path(),
            &database.database,
            &catalog,
            &clock,
            &providers,
            &capture,
            TEST_WORKER,
        )
        .await;
        let router = latchkey_service::http::router(app.clone());
        TestApp {
            app,
            router,
            clock,
            simulator,
            capture,
            catalog,
            providers,
            dir,
            database,
            next_id,
            admin_key,
        }
    }

    /// Another replica of the service on this app's database, as a second `serve` would
    /// be: a process state of its own (rule loader and plugin cache, caches of the admin
    /// state, job worker), sharing only the database, the clock, the (simulated) locks and
    /// what guests are told. Replicas are for PostgreSQL ([`TestApp::spawn_on_postgres`]).
    pub async fn replica(&self) -> Replica {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = build(
            dir.path(),
            &self.database.database,
            &self.catalog,
            &self.clock,
            &self.providers,
            &self.capture,
            &format!("replica-{}", NEXT_REPLICA.fetch_add(1, Ordering::Relaxed)),
        )
        .await;
        Replica {
            router: latchkey_service::http::router(app.clone()),
            app,
            admin_key: self.admin_key.clone(),
            _dir: dir,
        }
    }

    /// Sends a request through the router, as the test admin unless it carries an
    /// `Authorization` header or a cookie of its own.
    pub async fn request(&self, mut request: Request<Body>) -> Reply {
        let headers = request.headers_mut();
        if !headers.contains_key("authorization") && !headers.contains_key("cookie") {
            let bearer = format!("Bearer {}", self.admin_key);
            headers.insert("authorization", bearer.parse().expect("header value"));
        }
        reply_of(&self.router, request).await
    }

    /// Sends a request through the router exactly as given (no credentials added).
    pub async fn request_raw(&self, request: Request<Body>) -> Reply {
        reply_of(&self.router, request).await
    }

    /// Posts `body` to the `demo` source, signed now with a fresh webhook id.
    pub async fn send(&self, body: &Value) -> Reply {
        let id = format!(
            "msg_{}",
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.send_as(&id, body).await
    }

    /// Posts `body` to the `demo` source as `webhook_id`, signed now.
    pub async fn send_as(&self, webhook_id: &str, body: &Value) -> Reply {
        self.send_signed("demo", DEMO_SECRET, webhook_id, body)
            .await
    }

    /// Posts `body` to source `source` as `webhook_id`, signed now with `secret`
    /// (Standard Webhooks).
    pub async fn send_signed(
        &self,
        source: &str,
        secret: &str,
        webhook_id: &str,
        body: &Value,
    ) -> Reply {
        let request = signed_webhook(source, secret, webhook_id, self.clock.now(), body);
        self.request(request).await
    }

    /// The locks reservation `id` holds a live (not revoked) code on, sorted.
    pub async fn locks_with_codes(&self, id: &str) -> Vec<String> {
        let view = self.reservation(id).await;
        let mut locks: Vec<String> = view["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .filter(|c| !matches!(c["state"].as_str(), Some("revoked" | "revoking")))
            .filter_map(|c| c["lock"].as_str().map(str::to_owned))
            .collect();
        locks.sort();
        locks.dedup();
        locks
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// Posts `body` as JSON to `path`, as the test admin.
    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        let request = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.request(request).await
    }

    /// Runs every job due now.
    pub async fn run_jobs(&self) {
        latchkey_service::jobs::run_due(&self.app)
            .await
            .expect("jobs run");
    }

    /// The kinds of the jobs queued, sorted: `["forecast_capacity"]` alone when nothing but
    /// the capacity forecast, which keeps itself scheduled, waits.
    pub async fn queued_jobs(&self) -> Vec<String> {
        let mut conn = self.app.pool.acquire().await.expect("connection");
        sqlx::query_scalar::<_, String>(
            "SELECT kind FROM jobs WHERE state = 'queued' ORDER BY kind",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("queued jobs")
    }

    /// Moves the clock to `until`, running every job at the instant it falls due.
    pub async fn advance_to(&self, until: Timestamp) {
        loop {
            self.run_jobs().await;
            match self.app.next_job_at().await.expect("next job") {
                Some(t) if t <= until => self.clock.advance_to(t),
                _ => break,
            }
        }
        self.clock.advance_to(until);
        self.run_jobs().await;
    }

    /// The reservation as the API shows it.
    pub async fn reservation(&self, id: &str) -> Value {
        let reply = self.get(&format!("/v1/reservations/{id}")).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "GET reservation {id}: {:?}",
            reply.body
        );
        reply.body
    }

    /// Syncs every lock now (`POST /v1/locks/sync`) and answers the sync's report.
    pub async fn sync_locks(&self) -> Value {
        let reply = self
            .request(
                Request::post("/v1/locks/sync")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body
    }

    /// The alerts of `kind` (`GET /v1/alerts`).
    pub async fn alerts_of(&self, kind: &str) -> Vec<Value> {
        let reply = self.get("/v1/alerts").await;
        reply.body["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["kind"] == kind)
            .cloned()
            .collect()
    }

    /// The simulator's reference of the code with `pin` on `lock` now.
    pub fn reference_on(&self, lock: &str, pin: &str) -> String {
        let now = self.clock.now();
        self.simulator
            .history(lock)
            .into_iter()
            .rev()
            .find(|seg| seg.pin.as_str() == pin && seg.present_at(now))
            .map(|seg| seg.reference)
            .expect("the code is on the lock")
    }

    /// The live code of reservation `id` on `lock`: (PIN, state).
    pub async fn code_on(&self, id: &str, lock: &str) -> Option<(String, String)> {
        let view = self.reservation(id).await;
        view["codes"]
            .as_array()?
            .iter()
            .rev()
            .find(|c| c["lock"] == lock)
            .map(|c| {
                (
                    c["pin"].as_str().unwrap_or_default().to_owned(),
                    c["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
    }
}

/// A second replica of a [`TestApp`] (see [`TestApp::replica`]). Dropped before the
/// test app, whose database it uses.
pub struct Replica {
    pub app: App,
    pub router: Router,
    admin_key: String,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// Sends a request through this replica's router as the test admin.
    pub async fn request(&self, mut request: Request<Body>) -> Reply {
        let bearer = format!("Bearer {}", self.admin_key);
        request
            .headers_mut()
            .insert("authorization", bearer.parse().expect("header value"));
        reply_of(&self.router, request).await
    }

    /// Posts `body` to this replica's `demo` source as `webhook_id`, signed now.
    pub async fn send_as(&self, webhook_id: &str, body: &Value) -> Reply {
        let request = signed_webhook("demo", DEMO_SECRET, webhook_id, self.app.clock.now(), body);
        self.request(request).await
    }

    /// Runs every job due now on this replica's worker.
    pub async fn run_jobs(&self) {
        latchkey_service::jobs::run_due(&self.app)
            .await
            .expect("jobs run");
    }
}

/// `POST /v1/hooks/{source}` with `body`, signed at `now` with `secret` as `webhook_id`
/// (Standard Webhooks).
pub fn signed_webhook(
    source: &str,
    secret: &str,
    webhook_id: &str,
    now: Timestamp,
    body: &Value,
) -> Request<Body> {
    let bytes = serde_json::to_vec(body).expect("json");
    let sig = signature::sign(secret, webhook_id, now, &bytes).expect("sign");
    Request::post(format!("/v1/hooks/{source}"))
        .header("content-type", "application/json")
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", now.unix().to_string())
        .header("webhook-signature", sig)
        .body(Body::from(bytes))
        .expect("request")
}

/// A canonical event for reservation `id`.
pub fn event(
    kind: &str,
    id: &str,
    status: &str,
    room: &str,
    check_in: &str,
    check_out: &str,
    version: u64,
) -> Value {
    json!({
        "type": format!("reservation.{kind}"),
        "data": {
            "id": id, "status": status, "resources": [room],
            "check_in": check_in, "check_out": check_out,
            "guest": { "name": "Test Guest", "email": "guest@example.com" },
            "version": version
        }
    })
}

/// The stay most tests use: reservation `R-1`, paid, room 101, from 2026-11-23 15:00 to
/// 2026-11-25 11:00 UTC (the day after the tests' usual "now"), version 1.
pub fn paid_stay() -> Value {
    event(
        "paid",
        "R-1",
        "paid",
        "101",
        "2026-11-23T15:00:00Z",
        "2026-11-25T11:00:00Z",
        1,
    )
}

/// Reservation `R-2`, paid, in room 102 from 2026-11-23 15:00 to 2026-11-25 11:00 UTC
/// (in the example hotel, room 102's lock is slow: it confirms a new code 90 s after it
/// is set).
pub fn stay_in_102() -> Value {
    event(
        "paid",
        "R-2",
        "paid",
        "102",
        "2026-11-23T15:00:00Z",
        "2026-11-25T11:00:00Z",
        1,
    )
}

/// The stay of [`paid_stay`], cancelled (version 2).
pub fn cancelled_stay() -> Value {
    event(
        "cancelled",
        "R-1",
        "cancelled",
        "101",
        "2026-11-23T15:00:00Z",
        "2026-11-25T11:00:00Z",
        2,
    )
}

/// A private door of room 101 in branch `main`, on `provider`'s `device`: for tests that
/// put a lock cloud's lock in the example hotel.
pub fn room_101_door(
    id: &str,
    provider: &str,
    device: &str,
) -> latchkey_service::catalog::LockEntry {
    latchkey_service::catalog::LockEntry {
        instructions: None,
        overflow: None,
        id: latchkey_engine::LockId::parse(id).expect("valid id"),
        name: id.into(),
        door: latchkey_engine::DoorKind::Private,
        branch: Some(latchkey_engine::BranchId::parse("main").expect("valid id")),
        resources: vec![latchkey_engine::ResourceId::parse("101").expect("valid id")],
        provider: Some(provider.into()),
        device: Some(device.into()),
        simulator: None,
        max_codes: None,
    }
}

/// Asserts that `listed` (a lock's codes, as its cloud lists them) holds the code
/// `reference`, enabled, named `marker`, with `pin` and `window`.
pub fn assert_listed(
    listed: &[latchkey_providers::ListedCode],
    reference: &str,
    marker: &str,
    pin: &str,
    window: latchkey_engine::Window,
) {
    let code = listed
        .iter()
        .find(|c| c.reference == reference)
        .unwrap_or_else(|| panic!("{reference} is not listed: {listed:?}"));
    assert_eq!(code.name.as_deref(), Some(marker), "{code:?}");
    assert_eq!(code.pin.as_ref().map(|p| p.as_str()), Some(pin), "{code:?}");
    assert_eq!(code.window, Some(window), "{code:?}");
    assert!(code.enabled, "{code:?}");
}

/// Asserts an RFC 9457 problem with `status` whose detail mentions `needle`.
pub fn assert_problem(reply: &Reply, status: StatusCode, needle: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(
        reply.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:latchkey:problem:")),
        "{:?}",
        reply.body
    );
    assert!(reply.body["title"].is_string());
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(needle),
        "detail {detail:?} should mention {needle:?}"
    );
}

/// Asserts a 422 problem pointing at `pointer`.
pub fn assert_invalid_at(reply: &Reply, pointer: &str) {
    assert_problem(reply, StatusCode::UNPROCESSABLE_ENTITY, "");
    assert_eq!(reply.body["pointer"], pointer, "{:?}", reply.body);
}

/// Posts `body` to `path` as `content_type`, with `headers`.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Reply {
    let mut request = Request::post(path).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    app.request(request.body(Body::from(body)).expect("request"))
        .await
}

/// A webhook source from its `property.toml` table, written as JSON.
pub fn source(entry: Value) -> latchkey_sources::SourceEntry {
    serde_json::from_value(entry).expect("a valid source entry")
}

//! Real lock clouds wired through property.toml: credentials stored through the API,
//! sealed at rest, never shown; accounts connected from them against the Seam contract
//! fake on loopback (a `base_url` override), their locks' capabilities resolved from what
//! the cloud says; and the failures an admin must be told about, naming the account.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use latchkey_engine::Role;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_engine::rules::RuleLimits;
use latchkey_engine::{DoorKind, LockId};
use latchkey_providers::accounts::AccountEntry;
use latchkey_providers::breaker::BreakerPolicy;
use latchkey_providers::credentials::Kind;
use latchkey_providers::http::HttpSettings;
use latchkey_providers::seam::Seam;
use latchkey_providers::simulator::Simulator;
use latchkey_providers::{Provider, Providers};
use latchkey_service::app::{App, AppConfig};
use latchkey_service::catalog::{Catalog, CatalogFile, LockEntry};
use latchkey_service::credentials::accounts::{self, AccountClients};
use latchkey_service::credentials::cipher::{self, Key};
use latchkey_service::error::display_chain;
use latchkey_service::notify::Notifier;
use latchkey_service::rule_loader::RuleLoader;
use latchkey_sim::clouds::seam::{FakeDevice, SeamFake};
use latchkey_store::{self as store, Durability};
use serde_json::{Value, json};

use crate::harness::{Reply, at, hotel_dir, reply_of};

/// The credentials key of every test in this binary (installed once for the process).
const TEST_KEY: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
const API_KEY: &str = "seam_live_S3CRET_9f8e7d6c5b4a";
/// The key an admin creates in Seam's console to replace [`API_KEY`].
const ROTATED_API_KEY: &str = "seam_live_R0TATED_1a2b3c4d5e6f";
const ONLINE: &str = "22222222-0000-4000-8000-000000000001";
const OFFLINE: &str = "22222222-0000-4000-8000-000000000002";

struct Setup {
    app: App,
    router: axum::Router,
    admin_key: String,
    clock: SimClock,
    file: CatalogFile,
    seam: AccountEntry,
    base_url: String,
    dir: tempfile::TempDir,
    fake: SeamFake,
}

/// The example hotel with a `seam-main` account pointing at a Seam fake (an online-code
/// and an offline-code lock), recorded as `serve` records it; the service itself runs
/// with the simulator only, as before the account's credentials were set.
async fn setup() -> Setup {
    cipher::install(Key::parse(TEST_KEY).expect("test key"));
    let clock = SimClock::new(at("2026-06-01T12:00:00Z"));
    let fake = SeamFake::new(
        API_KEY,
        vec![
            FakeDevice::online_codes(ONLINE),
            FakeDevice::offline_codes(OFFLINE),
        ],
        Arc::new(clock.clone()),
    );
    let base_url = latchkey_sim::clouds::serve_loopback(fake.router())
        .await
        .expect("serve on loopback");
    let seam = AccountEntry {
        key: "seam-main".into(),
        kind: Kind::Seam,
        base_url: Some(base_url.clone()),
        auth_url: None,
        requests_per_second: None,
    };
    let mut file = CatalogFile::load(&hotel_dir()).expect("example property loads");
    file.accounts = vec![seam.clone()];
    let dir = tempfile::tempdir().expect("temp dir");
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let simulator = Simulator::new(Arc::clone(&shared), 42);
    let providers = Providers::default()
        .with("simulator", Arc::new(simulator.clone()))
        .guarded(&shared, BreakerPolicy::default());
    let catalog = file
        .clone()
        .resolve(&hotel_dir(), &providers, &simulator)
        .expect("example property resolves");
    let app = start(
        dir.path(),
        catalog,
        providers,
        AccountClients::none(),
        shared,
        "test",
    )
    .await;
    {
        let mut conn = app.pool.acquire().await.expect("connection");
        accounts::register(&mut conn, &file.workspace, &file.accounts)
            .await
            .expect("accounts recorded");
    }
    let router = latchkey_service::http::router(app.clone());
    let admin_key = crate::harness::create_key(&app, "test-admin", Role::Admin).await;
    Setup {
        app,
        router,
        admin_key,
        clock,
        file,
        seam,
        base_url,
        dir,
        fake,
    }
}

impl Setup {
    async fn request(&self, mut request: Request<Body>) -> (Reply, String) {
        let bearer = format!("Bearer {}", self.admin_key);
        request
            .headers_mut()
            .insert("authorization", bearer.parse().expect("header value"));
        let reply = reply_of(&self.router, request).await;
        let text = reply.text.clone();
        (reply, text)
    }

    async fn put_credentials(&self, key: &str, content_type: &str, body: &str) -> Reply {
        self.request(
            Request::put(format!("/v1/accounts/{key}/credentials"))
                .header("content-type", content_type)
                .body(Body::from(body.to_owned()))
                .expect("request"),
        )
        .await
        .0
    }

    async fn accounts(&self) -> (Value, String) {
        let (reply, text) = self
            .request(
                Request::get("/v1/accounts")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{text}");
        (reply.body, text)
    }

    /// `serve`'s start with `entries`: every account connected from the database.
    async fn connect(&self, entries: &[AccountEntry]) -> latchkey_service::Result<AccountClients> {
        let shared: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let mut conn = self.app.pool.acquire().await.expect("connection");
        accounts::connect_all(&mut conn, &self.file.workspace, entries, &shared).await
    }
}

/// The providers `serve` registers: the simulator and the connected accounts, guarded.
fn registry(connected: &AccountClients, clock: &Arc<dyn Clock>) -> (Providers, Simulator) {
    let simulator = Simulator::new(Arc::clone(clock), 1);
    let providers = connected
        .providers()
        .fold(
            Providers::default().with("simulator", Arc::new(simulator.clone())),
            |p, (key, provider)| p.with(key, provider),
        )
        .guarded(clock, BreakerPolicy::default());
    (providers, simulator)
}

/// A second `serve` on the setup's database, started after credentials were stored: its
/// `seam-main` account connected from them, as `serve` connects it.
async fn replica(s: &Setup) -> App {
    let connected = s
        .connect(std::slice::from_ref(&s.seam))
        .await
        .expect("the account connects");
    let shared: Arc<dyn Clock> = Arc::new(s.clock.clone());
    let (providers, simulator) = registry(&connected, &shared);
    let catalog = s
        .file
        .clone()
        .resolve(&hotel_dir(), &providers, &simulator)
        .expect("example property resolves");
    start(
        s.dir.path(),
        catalog,
        providers,
        connected,
        shared,
        "replica-b",
    )
    .await
}

/// A service on the SQLite database in `dir`, as `serve` assembles it, under the worker
/// name `worker`.
async fn start(
    dir: &Path,
    catalog: Catalog,
    providers: Providers,
    accounts: AccountClients,
    clock: Arc<dyn Clock>,
    worker: &str,
) -> App {
    let rules = RuleLoader::new(RuleLimits::default(), Some(dir.join("wasm-cache")));
    App::build(AppConfig {
        database: dir.join("latchkey.db").into(),
        durability: Durability::Full,
        rule: rules.file(&catalog.rule_path).expect("rule compiles"),
        catalog,
        clock,
        providers,
        accounts,
        seed: Some(7),
        rules,
        notifier: Arc::new(Notifier::silent().expect("built-in templates")),
        access: Default::default(),
        worker: worker.into(),
    })
    .await
    .expect("the service builds")
}

fn seam_lock(id: &str, device: &str) -> LockEntry {
    LockEntry {
        instructions: None,
        overflow: None,
        id: LockId::parse(id).expect("lock id"),
        name: format!("Seam {id}"),
        door: DoorKind::Shared,
        branch: None,
        resources: Vec::new(),
        provider: Some("seam-main".into()),
        device: Some(device.into()),
        simulator: None,
        max_codes: None,
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every byte SQLite holds for the database: the file and its write-ahead log.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["latchkey.db", "latchkey.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

#[tokio::test]
async fn credentials_set_through_the_api_connect_the_account_and_resolve_its_locks() {
    let s = setup().await;

    // Before any credentials, the start fails naming the account and what to run.
    let error = s
        .connect(std::slice::from_ref(&s.seam))
        .await
        .err()
        .map(|e| display_chain(&e))
        .expect("no credentials yet");
    assert_eq!(
        error,
        "account `seam-main` has no credentials: run `latchkey credentials set seam-main --file creds.json`"
    );
    let (listed, _) = s.accounts().await;
    assert_eq!(
        listed,
        json!({"accounts": [{"key": "seam-main", "kind": "seam", "credentials": false, "updated_at": null}]})
    );

    let body = json!({"kind": "seam", "api_key": API_KEY}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &body)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);

    // Listed with its kind and date, never the secret.
    let (listed, text) = s.accounts().await;
    assert_eq!(
        listed,
        json!({"accounts": [{"key": "seam-main", "kind": "seam", "credentials": true,
            "updated_at": s.clock.now().unix()}]})
    );
    assert!(!text.contains("S3CRET"), "{text}");

    // At rest: the row holds a ciphertext; no byte of the database shows the key.
    let row = {
        let mut conn = s.app.pool.acquire().await.expect("connection");
        store::credentials::get(&mut conn, &s.file.workspace, "seam-main")
            .await
            .expect("read")
            .expect("stored")
    };
    assert_eq!(row.kind, "seam");
    assert_eq!(row.sealed.nonce.len(), cipher::NONCE_LEN);
    assert!(!contains(&row.sealed.ciphertext, "S3CRET"));
    let on_disk = database_bytes(s.dir.path());
    assert!(contains(&on_disk, "seam-main"), "the row is on disk");
    assert!(
        !contains(&on_disk, "S3CRET"),
        "the secret is on disk in clear"
    );

    // `serve`'s start: the account connects through its base_url override, and the
    // catalog's Seam locks get the capabilities the cloud declares for each device.
    let connected = s
        .connect(std::slice::from_ref(&s.seam))
        .await
        .expect("the account connects");
    assert_eq!(connected.providers().count(), 1);
    let shared: Arc<dyn Clock> = Arc::new(s.clock.clone());
    let (providers, simulator) = registry(&connected, &shared);
    let mut file = s.file.clone();
    file.locks.extend([
        seam_lock("seam-front", ONLINE),
        seam_lock("seam-back", OFFLINE),
    ]);
    let catalog = file
        .resolve(&hotel_dir(), &providers, &simulator)
        .expect("catalog with Seam locks resolves");
    let direct = Seam::connect(
        &HttpSettings {
            base_url: s.base_url.clone(),
            timeout: std::time::Duration::from_secs(10),
            requests_per_second: None,
        },
        API_KEY,
    )
    .await
    .expect("direct client");
    let front = catalog
        .lock(&LockId::parse("seam-front").expect("id"))
        .expect("front");
    let back = catalog
        .lock(&LockId::parse("seam-back").expect("id"))
        .expect("back");
    assert_eq!(
        Some(front.capabilities.clone()),
        direct.capabilities(ONLINE)
    );
    assert_eq!(
        Some(back.capabilities.clone()),
        direct.capabilities(OFFLINE)
    );
    assert!(front.capabilities.custom_pin && front.capabilities.remote_unlock);
    assert!(!back.capabilities.custom_pin && !back.capabilities.remote_unlock);
    assert_eq!(front.provider, "seam-main");

    // What resolving the example says once `change` is made to it.
    let refusal = |change: &dyn Fn(&mut CatalogFile)| {
        let mut file = s.file.clone();
        change(&mut file);
        file.resolve(&hotel_dir(), &providers, &simulator)
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    };

    // A lock naming a device the account does not have is refused, not dropped.
    let error = refusal(&|file| file.locks.push(seam_lock("ghost", "no-such-device")));
    assert!(
        error.contains("provider `seam-main` knows no device `no-such-device`"),
        "{error}"
    );

    // A lock with neither a provider nor a simulated behaviour is refused by name: it is
    // not put on the simulator, where its PINs would open nothing.
    let error = refusal(&|file| {
        let mut typo = seam_lock("lobby", "lobby-device");
        typo.provider = None;
        file.locks.push(typo);
    });
    assert!(error.contains("lock `lobby` has no `provider`"), "{error}");

    // A capacity is the simulator's to take: the cloud reports its own locks'.
    let error = refusal(&|file| {
        let mut sized = seam_lock("sized", ONLINE);
        sized.max_codes = Some(200);
        file.locks.push(sized);
    });
    assert!(
        error.contains("lock `sized`: `max_codes` is for simulated locks"),
        "{error}"
    );
    let error = refusal(&|file| entrance(file).max_codes = Some(0));
    assert!(error.contains("at least 1"), "{error}");

    // A simulated shared door declares the capacity property.toml gives it.
    let mut file = s.file.clone();
    entrance(&mut file).max_codes = Some(200);
    let catalog = file
        .resolve(&hotel_dir(), &providers, &simulator)
        .expect("a simulated lock with a capacity resolves");
    let main_entrance = LockId::parse("main-entrance").expect("id");
    let resolved = catalog.lock(&main_entrance).expect("entrance");
    assert_eq!(resolved.capabilities.max_codes, 200);
    assert_eq!(
        simulator.capabilities("main-entrance").map(|c| c.max_codes),
        Some(200)
    );
}

/// The example's main entrance, a simulated shared door.
fn entrance(file: &mut CatalogFile) -> &mut LockEntry {
    file.locks
        .iter_mut()
        .find(|l| l.id.as_str() == "main-entrance")
        .expect("the example's main entrance")
}

#[tokio::test]
async fn bad_credentials_requests_are_problems_and_store_nothing() {
    let s = setup().await;
    let seam = json!({"kind": "seam", "api_key": API_KEY}).to_string();

    let reply = s
        .put_credentials("nuki-nowhere", "application/json", &seam)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], "not-found");

    let nuki = json!({"kind": "nuki", "api_token": "S3CRET-nuki"}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &nuki)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["pointer"], "/kind");
    let detail = reply.body["detail"].as_str().expect("detail");
    assert!(detail.contains("is a seam account"), "{detail}");

    for (body, pointer) in [
        ("{not json", ""),
        (r#"{"kind":"seam"}"#, ""),
        (r#"{"kind":"seam","api_key":""}"#, "/api_key"),
        (
            r#"{"kind":"seam","api_key":"S3CRET-x","token":"S3CRET-y"}"#,
            "/token",
        ),
        (r#"{"kind":"yale","api_key":"S3CRET-x"}"#, "/kind"),
        (r#"{"kind":"seam","api_key":7}"#, "/api_key"),
    ] {
        let reply = s
            .put_credentials("seam-main", "application/json", body)
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.content_type, "application/problem+json", "{body}");
        assert_eq!(reply.body["code"], "invalid-body", "{body}");
        assert_eq!(reply.body["pointer"], pointer, "{body}");
        assert!(
            !reply.body.to_string().contains("S3CRET"),
            "{body}: {:?}",
            reply.body
        );
    }

    let reply = s.put_credentials("seam-main", "text/plain", &seam).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = json!({"kind": "seam", "api_key": "x".repeat(20_000)}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &huge)
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    let (listed, _) = s.accounts().await;
    assert_eq!(listed["accounts"][0]["credentials"], false);
}

#[tokio::test]
async fn stored_credentials_only_open_for_their_account_and_kind() {
    let s = setup().await;
    let body = json!({"kind": "seam", "api_key": API_KEY}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &body)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    // The row copied under another account does not open there.
    let annex = AccountEntry {
        key: "seam-annex".into(),
        ..s.seam.clone()
    };
    {
        let mut conn = s.app.pool.acquire().await.expect("connection");
        let row = store::credentials::get(&mut conn, &s.file.workspace, "seam-main")
            .await
            .expect("read")
            .expect("stored");
        store::credentials::put(
            &mut conn,
            &s.file.workspace,
            "seam-annex",
            Kind::Seam.as_str(),
            &row.sealed,
            s.clock.now(),
        )
        .await
        .expect("copy");
    }
    let error = s
        .connect(std::slice::from_ref(&annex))
        .await
        .err()
        .map(|e| display_chain(&e))
        .expect("moved row");
    assert!(
        error.starts_with("account `seam-annex`: cannot decrypt the stored credentials"),
        "{error}"
    );

    // property.toml changed the account's kind: the stored credentials are of the old one.
    let as_nuki = AccountEntry {
        kind: Kind::Nuki,
        ..s.seam.clone()
    };
    let error = s
        .connect(std::slice::from_ref(&as_nuki))
        .await
        .err()
        .map(|e| display_chain(&e))
        .expect("kind changed");
    assert!(
        error.contains("account `seam-main` is a nuki account in property.toml, but its stored credentials are for seam"),
        "{error}"
    );

    // Credentials the cloud refuses: the start fails naming the account and its URL.
    let wrong = json!({"kind": "seam", "api_key": "seam_live_S3CRET_wrong"}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &wrong)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let error = s
        .connect(std::slice::from_ref(&s.seam))
        .await
        .err()
        .map(|e| display_chain(&e))
        .expect("refused by the cloud");
    assert!(
        error.starts_with(&format!(
            "account `seam-main` (seam at {}): cannot connect:",
            s.base_url
        )),
        "{error}"
    );
    assert!(!error.contains("S3CRET"), "{error}");
}

/// The admin replaces the Seam API key (the old one is refused from then on) and sets
/// the new one through one replica's API: the other replica, running since before, calls
/// the cloud with the new key at its next call, without a restart.
#[tokio::test]
async fn credentials_set_through_one_replica_are_used_by_every_replica_without_a_restart() {
    let s = setup().await;
    let body = json!({"kind": "seam", "api_key": API_KEY}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &body)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let other = replica(&s).await;
    let provider = |app: App| async move {
        let mut conn = app.pool.acquire().await.expect("connection");
        app.provider(&mut conn, "seam-main")
            .await
            .expect("revision read")
            .expect("the account is registered")
    };
    let status = provider(other.clone()).await.lock_status(ONLINE).await;
    assert!(status.expect("the stored key is accepted").online);

    s.fake.rotate_api_key(ROTATED_API_KEY);
    let refused = provider(other.clone()).await.lock_status(ONLINE).await;
    assert!(refused.is_err(), "the replaced key is refused: {refused:?}");

    // Set through the first service (its router), never through `other`.
    let body = json!({"kind": "seam", "api_key": ROTATED_API_KEY}).to_string();
    let reply = s
        .put_credentials("seam-main", "application/json", &body)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let status = provider(other.clone()).await.lock_status(ONLINE).await;
    assert!(status.expect("the new key is used").online);
}

#[tokio::test]
async fn accounts_removed_from_the_property_are_no_longer_listed() {
    let s = setup().await;
    let connected = s.connect(&[]).await.expect("nothing to connect");
    assert_eq!(connected.providers().count(), 0);
    {
        let mut conn = s.app.pool.acquire().await.expect("connection");
        accounts::register(&mut conn, &s.file.workspace, &[])
            .await
            .expect("recorded");
    }
    let (listed, _) = s.accounts().await;
    assert_eq!(listed, json!({"accounts": []}));
    // The example hotel, as shipped, declares none and still loads.
    let shipped = CatalogFile::load(&hotel_dir()).expect("example property loads");
    assert!(shipped.accounts.is_empty());
}

//! Partner plugins: upload (validate, smoke-test, store an immutable version), activation
//! per workspace and deletion (the planner, [`crate::planner`], loads the version on
//! record); also the
//! activation of Rhai versions uploaded through `/v1/rules`, which takes a plugin's place
//! (the one activated last wins).
//!
//! A version is accepted only if the component compiles, implements the world
//! `latchkey:rules/rule`, imports nothing it may not, and plans a sample reservation of the
//! workspace's property within the rule limits. Activating or deactivating a plugin
//! re-plans, through the durable queue, every reservation the change may concern.

use std::sync::Arc;

use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::wasm::{ContentHash, LoadError, WasmRule};
use latchkey_engine::rules::{self, EventType, RuleEvent, RuleInput};
use latchkey_engine::{
    Guest, Reservation, ReservationId, ReservationStatus, Timestamp, WorkspaceId,
};
use serde::Serialize;

use crate::app::AppState;
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::planner::{CurrentRule, RuleSource};
use crate::queue::{self, JobSpec};
use crate::rule_loader::RuleLoader;
use latchkey_store::plugins::{self as stored, Activation, PluginVersion};
use latchkey_store::revisions::{self, Topic};
use latchkey_store::rule_versions;
use latchkey_store::{Conn, reservations};

/// Largest component accepted, in bytes (10 MiB).
pub const MAX_COMPONENT_BYTES: usize = 10 * 1024 * 1024;

/// The first bytes of every WebAssembly binary, module or component.
const WASM_MAGIC: &[u8] = b"\0asm";

/// What an upload did.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    /// The version holding these bytes.
    #[serde(flatten)]
    pub version: PluginVersion,
    /// False when the same bytes were already stored under this name (a repeated upload).
    pub created: bool,
}

/// Validates and stores `bytes` as the next version of plugin `name`; the same bytes
/// uploaded again give the version they already have.
///
/// # Errors
/// [`Error::PluginRefused`] with code `invalid-name`, `not-a-component`,
/// `forbidden-import`, `wrong-world` or `smoke-test-failed`;
/// [`Error::PayloadTooLarge`] over [`MAX_COMPONENT_BYTES`]; database errors.
pub async fn upload(app: &AppState, name: &str, bytes: bytes::Bytes) -> Result<Uploaded> {
    check_name(name)?;
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: MAX_COMPONENT_BYTES,
        });
    }
    // The runtime also reads the WebAssembly text format, which is for tests, not uploads:
    // without this a stray text file would be answered with a WAT syntax error.
    if !bytes.starts_with(WASM_MAGIC) {
        return Err(Error::PluginRefused {
            code: "not-a-component",
            detail: "not a WebAssembly binary: a component starts with the bytes \\0asm; upload \
                     the .wasm file the build writes (e.g. target/wasm32-wasip2/release/NAME.wasm)"
                .into(),
        });
    }
    let sha256 = ContentHash::of(&bytes).to_string();
    let mut conn = app.pool.acquire().await?;
    if let Some(version) = stored::find_by_hash(&mut conn, name, &sha256).await? {
        return Ok(Uploaded {
            version,
            created: false,
        });
    }
    drop(conn);
    let rule = compile(&app.planner.loader, bytes.clone()).await?;
    smoke_test(
        rule,
        smoke_input(&app.catalog, app.clock.now())?,
        &app.planner.loader,
    )
    .await?;
    let mut tx = app.pool.begin().await?;
    // Checked again inside the transaction: a concurrent upload of the same bytes may
    // have stored them meanwhile.
    let version = match stored::find_by_hash(&mut tx, name, &sha256).await? {
        Some(version) => {
            return Ok(Uploaded {
                version,
                created: false,
            });
        }
        None => stored::insert(&mut tx, name, &sha256, &bytes, app.clock.now()).await?,
    };
    tx.commit().await?;
    tracing::info!(
        plugin = name,
        version = version.version,
        sha256,
        "plugin version stored"
    );
    Ok(Uploaded {
        version,
        created: true,
    })
}

/// Makes `ws` plan with plugin `name` at `version`, and re-plans its open reservations.
///
/// # Errors
/// [`Error::NotFound`] for an unknown version; [`Error::PluginRefused`] when the stored
/// component no longer loads; database errors.
pub async fn activate(
    app: &AppState,
    ws: &WorkspaceId,
    name: &str,
    version: i64,
) -> Result<Activation> {
    let _one_at_a_time = app.planner.rule.changing.lock().await;
    let mut conn = app.pool.acquire().await?;
    let (record, bytes) = stored::get(&mut conn, name, version)
        .await?
        .ok_or_else(|| version_not_found(name, version))?;
    drop(conn);
    let rule = compile(&app.planner.loader, bytes.into()).await?;
    let mut tx = app.pool.begin().await?;
    let activation = stored::activate(&mut tx, ws, name, version, app.clock.now()).await?;
    // The rule activated last is the one a restart restores.
    rule_versions::deactivate(&mut tx, ws).await?;
    let replanned = replan_open(&mut tx, ws, app.clock.now()).await?;
    let revision = revisions::bump(&mut tx, ws, Topic::Rule).await?;
    tx.commit().await?;
    let current = CurrentRule {
        rule: Arc::new(rule),
        source: RuleSource::plugin(&activation, &record),
    };
    app.planner.rule.set(current, revision.rule);
    tracing::info!(workspace = %ws, plugin = name, version, replanned, "plugin activated");
    Ok(activation)
}

/// Makes `ws` plan with its property's rule file again, and re-plans its open
/// reservations. Returns whether a plugin or a Rhai version was active.
///
/// # Errors
/// Database errors.
pub async fn deactivate(app: &AppState, ws: &WorkspaceId) -> Result<bool> {
    let _one_at_a_time = app.planner.rule.changing.lock().await;
    let mut tx = app.pool.begin().await?;
    // Back to the file from an activated Rhai version too.
    let was_active =
        stored::deactivate(&mut tx, ws).await? | rule_versions::deactivate(&mut tx, ws).await?;
    if was_active {
        let replanned = replan_open(&mut tx, ws, app.clock.now()).await?;
        let revision = revisions::bump(&mut tx, ws, Topic::Rule).await?;
        tx.commit().await?;
        app.planner.rule.set(app.planner.rule.file(), revision.rule);
        tracing::info!(workspace = %ws, replanned, "plugin deactivated; planning with the rule file");
    }
    Ok(was_active)
}

/// Deletes one version of `name`, or all of them with `version: None`.
///
/// # Errors
/// [`Error::Conflict`] when a workspace plans with a version to delete;
/// [`Error::NotFound`] when there is nothing to delete; database errors.
pub async fn delete(app: &AppState, name: &str, version: Option<i64>) -> Result<()> {
    let _one_at_a_time = app.planner.rule.changing.lock().await;
    let mut tx = app.pool.begin().await?;
    if let Some(user) = stored::users(&mut tx, name, version).await?.first() {
        return Err(Error::Conflict(format!(
            "plugin `{name}` version {} is the active rule of workspace `{}`; activate another rule first",
            user.version, user.workspace_id
        )));
    }
    if stored::delete(&mut tx, name, version).await? == 0 {
        return Err(match version {
            Some(v) => version_not_found(name, v),
            None => Error::NotFound {
                what: "plugin",
                id: name.to_owned(),
            },
        });
    }
    tx.commit().await?;
    Ok(())
}

/// Makes `ws` plan with the stored Rhai version `id` (activated by `by`), and re-plans
/// its open reservations, as a plugin activation does.
///
/// # Errors
/// [`Error::NotFound`] for an unknown version; [`Error::Conflict`] when the stored source
/// no longer compiles under the current limits; database errors.
pub async fn activate_rhai(app: &AppState, ws: &WorkspaceId, id: i64, by: &str) -> Result<()> {
    let _one_at_a_time = app.planner.rule.changing.lock().await;
    let mut conn = app.pool.acquire().await?;
    let (record, source) = rule_versions::get(&mut conn, ws, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "rule version",
            id: id.to_string(),
        })?;
    drop(conn);
    let limits = app.planner.loader.limits().clone();
    let rule = tokio::task::spawn_blocking(move || RhaiRule::compile(&source, limits))
        .await
        .map_err(|e| Error::internal_from("rule compilation panicked", e))?
        .map_err(|e| Error::Conflict(format!("rule version {id} no longer compiles: {e}")))?;
    let mut tx = app.pool.begin().await?;
    let activation = rule_versions::activate(&mut tx, ws, id, by, app.clock.now()).await?;
    // The rule activated last is the one a restart restores.
    stored::deactivate(&mut tx, ws).await?;
    let replanned = replan_open(&mut tx, ws, app.clock.now()).await?;
    let revision = revisions::bump(&mut tx, ws, Topic::Rule).await?;
    tx.commit().await?;
    let current = CurrentRule {
        rule: Arc::new(rule),
        source: RuleSource::rhai(&activation, &record),
    };
    app.planner.rule.set(current, revision.rule);
    tracing::info!(workspace = %ws, version = id, replanned, "rule version activated");
    Ok(())
}

/// Enqueues a reconcile of every reservation a new rule may plan differently.
async fn replan_open(conn: &mut Conn, ws: &WorkspaceId, now: Timestamp) -> Result<usize> {
    let ids = reservations::open_ids(conn, ws).await?;
    for id in &ids {
        let reservation = ReservationId::parse(id.as_str()).map_err(Error::internal)?;
        queue::enqueue(conn, ws, &JobSpec::Reconcile { reservation }, now, now).await?;
    }
    Ok(ids.len())
}

/// Compiles off the async threads: a cold compile takes a while.
async fn compile(loader: &RuleLoader, bytes: bytes::Bytes) -> Result<WasmRule> {
    loader.compile_component(bytes).await?.map_err(refused)
}

/// Plans `input` with the new plugin under the usual limits.
async fn smoke_test(rule: WasmRule, input: RuleInput, loader: &RuleLoader) -> Result<()> {
    let limits = loader.limits().clone();
    let outcome = tokio::task::spawn_blocking(move || rules::evaluate(&rule, &input, &limits))
        .await
        .map_err(|e| Error::internal_from("plugin smoke test panicked", e))?;
    outcome.map(drop).map_err(|e| Error::PluginRefused {
        code: "smoke-test-failed",
        detail: format!("the plugin failed its smoke test (a paid two-night stay): {e}"),
    })
}

/// A paid two-night stay in the property's first resource, starting in two days.
fn smoke_input(catalog: &Catalog, now: Timestamp) -> Result<RuleInput> {
    const DAY: i64 = 86_400;
    let reservation = Reservation {
        id: ReservationId::parse("smoke-test").map_err(Error::internal)?,
        status: ReservationStatus::Paid,
        resources: catalog
            .resources
            .first()
            .map(|r| r.id.clone())
            .into_iter()
            .collect(),
        check_in: now.plus(2 * DAY),
        check_out: now.plus(4 * DAY),
        checked_out_at: None,
        guest: Guest {
            name: "Smoke Test".into(),
            email: None,
            phone: None,
            locale: None,
        },
        version: 1,
    };
    let event = RuleEvent {
        kind: EventType::Paid,
        received_at: now,
    };
    Ok(catalog.rule_input(reservation, event, now))
}

fn refused(e: LoadError) -> Error {
    let code = match e {
        LoadError::TooLarge { limit, .. } => return Error::PayloadTooLarge { limit },
        LoadError::NotAComponent(_) => "not-a-component",
        LoadError::ForbiddenImport { .. } => "forbidden-import",
        LoadError::WrongWorld(_) => "wrong-world",
    };
    Error::PluginRefused {
        code,
        detail: e.to_string(),
    }
}

/// Plugin names: 1 to 64 of `a-z`, `0-9`, `-`, `_`, `.`, starting with a letter or digit.
fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::PluginRefused {
            code: "invalid-name",
            detail: format!(
                "`{name}` is not a plugin name: use 1 to 64 of a-z, 0-9, '-', '_' and '.', starting with a letter or digit"
            ),
        })
    }
}

fn version_not_found(name: &str, version: i64) -> Error {
    Error::NotFound {
        what: "plugin version",
        id: format!("{name}@{version}"),
    }
}

//! Webhook sources over HTTP: the property file's and those created here, which take
//! deliveries at `POST /v1/hooks/{name}` like the file's (a file source wins a name
//! clash, and creating a clashing name is refused).
//!
//! - `GET /v1/sources`: every source with its hook path; for API sources, their live
//!   secrets' ids, prefixes and lifetimes (never a secret).
//! - `POST /v1/sources` `{name}`: 201 with a new `canonical` (Standard Webhooks) source and
//!   its secret, shown once.
//! - `POST /v1/sources/{name}/rotate` `{overlap_secs?}`: a new secret, shown once; the
//!   previous ones keep verifying for the overlap.
//!
//! Secrets at rest are sealed with `LATCHKEY_CREDENTIALS_KEY` (ChaCha20-Poly1305, see
//! [`crate::credentials::cipher`]) when it is set, and stored in clear when it is not
//! (the embedded defaults); the verifier needs the secret itself, so a hash would not do.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Json;
use base64::Engine as _;
use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_providers::credentials::Secret;
use latchkey_store::credentials::Sealed;
use latchkey_store::sources::{self as stored, SecretInfo, StoredSecret, StoredSecretInput};
use rand::TryRngCore as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{JsonBody, is_json, read_limited, require_media_type};
use crate::app::App;
use crate::auth::Authorized;
use crate::auth::permission::Administer;
use crate::credentials::cipher::{Key, KeyError};
use crate::error::{Error, Problem, Result, display_chain};
use latchkey_sources::{SourceEntry, SourceForm};

/// Default overlap of a rotation, in seconds (one day).
pub const DEFAULT_OVERLAP_SECS: u64 = 86_400;

/// Longest overlap of a rotation, in seconds (30 days).
pub const MAX_OVERLAP_SECS: u64 = 30 * 86_400;

/// Random bytes in a new secret (192 bits; Standard Webhooks takes 24 to 64).
const SECRET_BYTES: usize = 24;

/// Characters of a secret shown in lists: `whsec_` and 6 of the 32 random ones.
const PREFIX_CHARS: usize = 12;

/// Largest request body, in bytes.
const MAX_BODY_BYTES: usize = 4096;

/// The only form created through the API.
const FORM: SourceForm = SourceForm::Canonical;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(rotate))
}

/// Every webhook source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourcesView {
    /// The property file's sources, then those created through the API, each by name.
    pub sources: Vec<SourceView>,
}

/// A webhook source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// Its name: the `{source}` of the hook path.
    pub name: String,
    /// `canonical`, `reenio`, `lodgify`, `generic` or `ical`.
    pub form: &'static str,
    /// `property` (property.toml) or `api` (created here).
    pub origin: &'static str,
    /// Where the platform posts; `null` for a polled calendar feed. A generic source that
    /// takes its secret in the path is posted to this path followed by `/<secret>`.
    pub url: Option<String>,
    /// The live secrets of an API source, newest first; empty for the file's (never
    /// shown).
    pub secrets: Vec<SecretView>,
}

/// What is shown of a secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// Its id.
    pub id: i64,
    /// Its first characters.
    pub prefix: String,
    /// When created, Unix seconds UTC.
    pub created_at: i64,
    /// When it stops verifying, Unix seconds UTC; `null` for the current secret.
    pub expires_at: Option<i64>,
}

/// The body of `POST /v1/sources`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    /// 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
    pub name: String,
}

/// A created source, with its secret (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// Its name.
    pub name: String,
    /// `canonical`: Standard Webhooks around the full reservation state.
    pub form: &'static str,
    /// Where the platform posts.
    pub url: String,
    /// The signing secret, `whsec_` + base64: give it to the platform now; it is not shown
    /// again.
    pub secret: String,
}

/// The body of `POST /v1/sources/{name}/rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the previous secrets keep verifying, in seconds: 0 to 2592000 (30 days);
    /// 86400 when not given.
    #[serde(default)]
    pub overlap_secs: Option<u64>,
}

/// A rotation's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// The new secret, shown this once.
    pub secret: String,
    /// When the previous secrets stop verifying, Unix seconds UTC.
    pub previous_expires_at: i64,
}

/// A source created through the API as the webhook route needs it: its entry and its live
/// secrets.
pub(super) struct ApiSourceEntry {
    /// The source, as if the property file declared it (without a `secret`).
    pub entry: SourceEntry,
    /// The secrets a delivery may be signed with, newest first.
    pub secrets: Vec<Secret>,
}

/// Every webhook source: the property file's and those created through the API.
#[utoipa::path(
    get,
    path = "/v1/sources",
    tag = "sources",
    responses((status = 200, body = SourcesView)),
)]
async fn list(
    _: Authorized<Administer>,
    State(app): State<App>,
) -> Result<Json<SourcesView>, Error> {
    let ws = &app.catalog.workspace;
    let mut sources: Vec<SourceView> = app
        .catalog
        .sources
        .iter()
        .map(|s| SourceView {
            name: s.name.clone(),
            form: s.form.as_str(),
            origin: "property",
            url: (s.form != SourceForm::Ical).then(|| hook_url(&s.name)),
            secrets: Vec::new(),
        })
        .collect();
    let mut conn = app.pool.acquire().await?;
    let now = app.clock.now();
    for source in stored::list(&mut conn, ws).await? {
        let secrets = stored::live_info(&mut conn, ws, &source.name, now).await?;
        sources.push(SourceView {
            url: Some(hook_url(&source.name)),
            form: form_of(&source.form)?.as_str(),
            name: source.name,
            origin: "api",
            secrets: secrets.into_iter().map(secret_view).collect(),
        });
    }
    Ok(Json(SourcesView { sources }))
}

/// Creates a Standard Webhooks source with a new random secret, shown once.
#[utoipa::path(
    post,
    path = "/v1/sources",
    tag = "sources",
    request_body = CreateSource,
    responses(
        (status = 201, body = Created),
        (status = 409, description = "A source with this name exists (in property.toml or here)", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name (pointer `/name`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn create(
    auth: Authorized<Administer>,
    State(app): State<App>,
    JsonBody(CreateSource { name }): JsonBody<CreateSource, MAX_BODY_BYTES>,
) -> Result<(StatusCode, Json<Created>), Error> {
    check_name(&name)?;
    if app.catalog.source(&name).is_some() {
        return Err(exists(&name, "property.toml"));
    }
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    let secret = new_secret()?;
    let mut tx = app.pool.begin().await?;
    if !stored::create(&mut tx, ws, &name, FORM.as_str(), &auth.caller.actor, now).await? {
        return Err(exists(&name, "the API"));
    }
    store_secret(&mut tx, ws, &name, &secret, now).await?;
    tx.commit().await?;
    tracing::info!(workspace = %ws, source = name, by = auth.caller.actor, "webhook source created");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            url: hook_url(&name),
            name,
            form: FORM.as_str(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// Gives an API source a new secret, shown once; the previous ones keep verifying until
/// the overlap ends.
#[utoipa::path(
    post,
    path = "/v1/sources/{name}/rotate",
    tag = "sources",
    params(("name" = String, Path, description = "The source's name")),
    request_body = Rotate,
    responses(
        (status = 200, body = Rotated),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A property.toml source: rotate its secret in the file", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An overlap out of range (pointer `/overlap_secs`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn rotate(
    auth: Authorized<Administer>,
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Rotated>, Error> {
    let bytes = read_limited(&headers, body, MAX_BODY_BYTES).await?;
    // The whole body is optional: an empty one takes the default overlap.
    let Rotate { overlap_secs } = if bytes.is_empty() {
        Rotate::default()
    } else {
        require_media_type(&headers, is_json, "application/json")?;
        crate::json::decode(&bytes)?
    };
    let overlap = overlap_secs.unwrap_or(DEFAULT_OVERLAP_SECS);
    if overlap > MAX_OVERLAP_SECS {
        return Err(Error::Invalid {
            pointer: "/overlap_secs".into(),
            detail: format!("`/overlap_secs`: at most {MAX_OVERLAP_SECS} s (30 days)"),
        });
    }
    if app.catalog.source(&name).is_some() {
        return Err(Error::Conflict(format!(
            "source `{name}` is defined in property.toml: change its secret there"
        )));
    }
    let ws = &app.catalog.workspace;
    let now = app.clock.now();
    // At most 30 days: fits an i64 with room to spare.
    let expires_at = now.plus(i64::try_from(overlap).unwrap_or(0));
    let secret = new_secret()?;
    let mut tx = app.pool.begin().await?;
    if stored::get(&mut tx, ws, &name).await?.is_none() {
        return Err(Error::UnknownSource(name));
    }
    stored::expire_live(&mut tx, ws, &name, expires_at, now).await?;
    store_secret(&mut tx, ws, &name, &secret, now).await?;
    tx.commit().await?;
    tracing::info!(workspace = %ws, source = name, overlap, by = auth.caller.actor, "webhook source secret rotated");
    Ok(Json(Rotated {
        secret: secret.expose().to_owned(),
        previous_expires_at: expires_at.unix(),
    }))
}

/// The source `name` created through the API, with its live secrets opened, if any.
///
/// # Errors
/// Database errors; [`Error::Config`] when no live secret opens (they were sealed and the
/// credentials key is now missing or another).
pub(super) async fn lookup(app: &App, name: &str) -> Result<Option<ApiSourceEntry>> {
    let ws = &app.catalog.workspace;
    let mut conn = app.pool.acquire().await?;
    let Some(source) = stored::get(&mut conn, ws, name).await? else {
        return Ok(None);
    };
    let mut secrets = Vec::new();
    let mut unopened = None;
    for sealed in stored::live(&mut conn, ws, name, app.clock.now()).await? {
        match open(ws, name, sealed) {
            Ok(secret) => secrets.push(secret),
            // One secret sealed under a lost key must not lock out a secret rotated in
            // under the new one.
            Err(e) => {
                tracing::error!(source = name, error = %display_chain(&e), "a webhook secret cannot be opened");
                unopened = Some(e);
            }
        }
    }
    if let (true, Some(e)) = (secrets.is_empty(), unopened) {
        return Err(e);
    }
    Ok(Some(ApiSourceEntry {
        entry: SourceEntry {
            name: source.name,
            form: form_of(&source.form)?,
            secret: None,
            reenio: None,
            lodgify: None,
            generic: None,
            ical: None,
        },
        secrets,
    }))
}

fn hook_url(name: &str) -> String {
    format!("/v1/hooks/{name}")
}

fn secret_view(info: SecretInfo) -> SecretView {
    SecretView {
        id: info.id,
        prefix: info.prefix,
        created_at: info.created_at,
        expires_at: info.expires_at,
    }
}

fn form_of(stored: &str) -> Result<SourceForm> {
    match stored {
        "canonical" => Ok(SourceForm::Canonical),
        other => Err(Error::internal(format!("stored source form `{other}`"))),
    }
}

fn exists(name: &str, place: &str) -> Error {
    Error::Conflict(format!(
        "a source named `{name}` already exists (in {place})"
    ))
}

/// Source names: 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit, so
/// that a name is one path segment as it is.
fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            pointer: "/name".into(),
            detail: format!(
                "`/name`: `{name}` is not a source name: use 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit"
            ),
        })
    }
}

/// `whsec_` + base64 of [`SECRET_BYTES`] bytes from the operating system (never the
/// app's seeded generator, which replays make predictable).
fn new_secret() -> Result<Secret> {
    let mut bytes = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
    rand::rngs::OsRng
        .try_fill_bytes(bytes.as_mut_slice())
        .map_err(|e| Error::internal_from("no randomness for a secret", e))?;
    Ok(Secret::new(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes.as_slice())
    )))
}

/// The sealing context of `name`'s secrets: unlike any account key (which has no `:`),
/// so a sealed secret never opens as an account's credentials, nor the reverse.
fn sealing_context(name: &str) -> String {
    format!("webhook-source:{name}")
}

/// Stores `secret` as `name`'s current secret: sealed when the credentials key is set,
/// in clear when it is not (the embedded defaults).
async fn store_secret(
    conn: &mut latchkey_store::Conn,
    ws: &WorkspaceId,
    name: &str,
    secret: &Secret,
    now: Timestamp,
) -> Result<SecretInfo> {
    let prefix: String = secret.expose().chars().take(PREFIX_CHARS).collect();
    let plain = secret.expose().as_bytes();
    match Key::current() {
        Ok(key) => {
            let sealed = key
                .seal(ws, &sealing_context(name), plain)
                .map_err(|e| Error::internal_from("cannot seal the secret", e))?;
            let input = StoredSecretInput {
                secret: &sealed.ciphertext,
                nonce: Some(&sealed.nonce),
            };
            Ok(stored::add_secret(conn, ws, name, &prefix, &input, now).await?)
        }
        Err(KeyError::Missing) => {
            let input = StoredSecretInput {
                secret: plain,
                nonce: None,
            };
            Ok(stored::add_secret(conn, ws, name, &prefix, &input, now).await?)
        }
        // A key set but malformed must not silently store secrets in clear.
        Err(e @ KeyError::Invalid(_)) => Err(Error::config_from("sealing a source's secret", e)),
    }
}

fn open(ws: &WorkspaceId, name: &str, stored: StoredSecret) -> Result<Secret> {
    let bytes = match stored.nonce {
        None => zeroize::Zeroizing::new(stored.secret),
        Some(nonce) => {
            let key = Key::current().map_err(|e| {
                Error::config_from(format!("secret {} of source `{name}`", stored.id), e)
            })?;
            let sealed = Sealed {
                nonce,
                ciphertext: stored.secret,
            };
            key.open(ws, &sealing_context(name), &sealed).map_err(|e| {
                Error::config_from(format!("secret {} of source `{name}`", stored.id), e)
            })?
        }
    };
    String::from_utf8(bytes.to_vec())
        .map(Secret::new)
        .map_err(|_| {
            Error::internal(format!(
                "secret {} of source `{name}` is not UTF-8",
                stored.id
            ))
        })
}

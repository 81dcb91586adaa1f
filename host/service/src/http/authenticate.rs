//! Authentication of admin API requests, the per-key rate limit, the CSRF check of
//! cookie writes, and the audit log of writes: one middleware, in that order.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_engine::Timestamp;
use latchkey_store::access::SessionRow;
use latchkey_store::{access, audit};

use crate::app::App;
use crate::auth::keys::{KEY_PREFIX, digest};
use crate::auth::sessions::{self, CSRF_HEADER};
use crate::auth::{Caller, Credential};
use crate::error::{Error, Result};

/// The middleware: see the module's documentation. Requests without credentials go on
/// as anonymous; handlers refuse them with [`crate::auth::Authorized`].
pub async fn authenticate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let now = app.clock.now();
    let (caller, session) = match identify(&app, request.headers(), &method, now).await {
        Ok(Some(identified)) => identified,
        Ok(None) => return next.run(request).await,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = app.gate.admit(&caller) {
        return e.into_response();
    }
    let audited = if is_write(&method) {
        let request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match begin_audit(&app, &caller, &method, &path, request_id.as_deref(), now).await {
            Ok(id) => Some(id),
            // A write that cannot be audited is not made.
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    request.extensions_mut().insert(caller);
    if let Some(session) = session {
        // For `GET /v1/session`, which shows it, so that it is not looked up again.
        request.extensions_mut().insert(session);
    }
    let response = next.run(request).await;
    if let Some(id) = audited {
        let status = response.status().as_u16();
        if let Err(e) = finish_audit(&app, id, status).await {
            tracing::error!(error = ?e, audit_id = id, "could not record a write's status in the audit log");
        }
    }
    response
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The caller the request's credentials name: an API key in `Authorization`, else a
/// session cookie (then with its session). `None` without either (or with a stale
/// cookie); the database is only asked when there is something to look up.
///
/// # Errors
/// [`Error::Unauthorized`] for an `Authorization` header that is not a live key of this
/// workspace; [`Error::Csrf`] for a cookie write without its token; database errors.
async fn identify(
    app: &App,
    headers: &HeaderMap,
    method: &Method,
    now: Timestamp,
) -> Result<Option<(Caller, Option<SessionRow>)>> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|key| key.starts_with(KEY_PREFIX))
            .ok_or_else(|| {
                Error::Unauthorized("send the API key as `Authorization: Bearer lk_…`".into())
            })?;
        let mut conn = app.pool.acquire().await?;
        let (_, row) = access::live_key_by_hash(&mut conn, &digest(key))
            .await?
            .filter(|(ws, _)| *ws == app.catalog.workspace)
            .ok_or_else(|| Error::Unauthorized("unknown or revoked API key".into()))?;
        access::touch_key(&mut conn, row.id, now).await?;
        let caller = Caller {
            actor: format!("key:{}", row.name),
            role: row.role,
            credential: Credential::Key(row.id),
        };
        return Ok(Some((caller, None)));
    }
    let Some(token) = sessions::token_of(headers) else {
        return Ok(None);
    };
    let mut conn = app.pool.acquire().await?;
    let Some((caller, session)) = sessions::resolve(&mut conn, token, now).await? else {
        return Ok(None);
    };
    if session.workspace != app.catalog.workspace {
        return Ok(None);
    }
    if is_write(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq::constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(Error::Csrf);
        }
    }
    Ok(Some((caller, Some(session))))
}

async fn begin_audit(
    app: &App,
    caller: &Caller,
    method: &Method,
    path: &str,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<i64> {
    let mut conn = app.pool.acquire().await?;
    let id = audit::begin(
        &mut conn,
        &app.catalog.workspace,
        &audit::NewEntry {
            actor: &caller.actor,
            role: caller.role,
            method: method.as_str(),
            path,
            request_id,
        },
        now,
    )
    .await?;
    Ok(id)
}

async fn finish_audit(app: &App, id: i64, status: u16) -> Result<()> {
    let mut conn = app.pool.acquire().await?;
    Ok(audit::finish(&mut conn, id, status).await?)
}

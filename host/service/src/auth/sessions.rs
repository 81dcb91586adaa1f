//! Dashboard sessions: a sign-in (an API key, or a username and password) becomes a
//! random token in an HttpOnly, SameSite=Strict cookie, and a CSRF token the page sends
//! back in `X-CSRF-Token` on every write.
//!
//! SameSite=Strict alone already keeps other sites' forms from riding the cookie; the
//! CSRF token also covers same-site attackers (another app on a sibling subdomain).

use axum::http::{HeaderMap, HeaderValue, header};
use latchkey_engine::{Timestamp, WorkspaceId};
use latchkey_store::Conn;
use latchkey_store::access::{self, SessionOwner, SessionRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::keys::{digest, random_token};
use super::{Caller, Credential, Role, passwords};
use crate::error::{Error, Result};

/// The session cookie's name.
pub const COOKIE: &str = "latchkey_session";

/// The header a cookie-authenticated write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts, in seconds: a front-desk shift.
pub const SESSION_SECS: i64 = 12 * 3600;

/// What a sign-in sends: an API key, or a username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SignIn {
    /// With an API key.
    Key {
        /// The key, `lk_…`.
        api_key: String,
    },
    /// With a dashboard user's password.
    Password {
        /// The username.
        username: String,
        /// The password.
        password: String,
    },
}

/// A session as its holder sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// Who signed in: `key:<name>` or `user:<username>`.
    pub actor: String,
    /// Their role.
    pub role: Role,
    /// Echo it in `X-CSRF-Token` on every write.
    pub csrf_token: String,
    /// When the session ends, Unix seconds UTC.
    pub expires_at: i64,
}

/// A new session and the token for its cookie.
#[derive(Debug)]
pub struct Opened {
    /// The cookie's value.
    pub token: String,
    /// What the holder sees.
    pub view: SessionView,
}

/// Checks `sign_in` and opens a session in `ws`.
///
/// # Errors
/// [`Error::Unauthorized`] for an unknown or revoked key or a wrong username or password
/// (the same words for both, so a caller cannot learn which usernames exist); database
/// errors.
pub async fn open(
    conn: &mut Conn,
    ws: &WorkspaceId,
    sign_in: &SignIn,
    now: Timestamp,
) -> Result<Opened> {
    let refused = || Error::Unauthorized("unknown API key, or wrong username or password".into());
    let (owner, actor, role) = match sign_in {
        SignIn::Key { api_key } => {
            let (key_ws, key) = access::live_key_by_hash(conn, &digest(api_key))
                .await?
                .ok_or_else(refused)?;
            if &key_ws != ws {
                return Err(refused());
            }
            (
                SessionOwner::Key(key.id),
                format!("key:{}", key.name),
                key.role,
            )
        }
        SignIn::Password { username, password } => {
            let user = access::user(conn, ws, username).await?;
            let stored = user.as_ref().map_or(passwords::decoy(), |(_, hash)| hash);
            // Verified even for an unknown user, so both take an Argon2's time.
            let matches = passwords::verify(password, stored);
            match user {
                Some((row, _)) if matches => (
                    SessionOwner::User(row.username.clone()),
                    format!("user:{}", row.username),
                    row.role,
                ),
                _ => return Err(refused()),
            }
        }
    };
    let token = random_token(32);
    let session = SessionRow {
        workspace: ws.clone(),
        owner,
        csrf_token: random_token(24),
        expires_at: now.0 + SESSION_SECS,
    };
    access::insert_session(conn, &digest(&token), &session, now).await?;
    Ok(Opened {
        token,
        view: SessionView {
            actor,
            role,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        },
    })
}

/// The caller behind session cookie `token`, with the session, if it is live and its
/// key or user still exists.
///
/// # Errors
/// Database errors.
pub async fn resolve(
    conn: &mut Conn,
    token: &str,
    now: Timestamp,
) -> Result<Option<(Caller, SessionRow)>> {
    let Some(session) = access::live_session(conn, &digest(token), now).await? else {
        return Ok(None);
    };
    let (actor, role) = match &session.owner {
        SessionOwner::Key(id) => match access::key_is_live(conn, &session.workspace, *id).await? {
            Some(key) => (format!("key:{}", key.name), key.role),
            None => return Ok(None),
        },
        SessionOwner::User(name) => match access::user(conn, &session.workspace, name).await? {
            Some((user, _)) => (format!("user:{}", user.username), user.role),
            None => return Ok(None),
        },
    };
    Ok(Some((
        Caller {
            actor,
            role,
            credential: Credential::Session,
        },
        session,
    )))
}

/// The session token in the request's cookies, if any.
pub fn token_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value carrying `token`; `Secure` when the request came over HTTPS
/// (directly or through a proxy saying so in `X-Forwarded-Proto`), since browsers drop
/// secure cookies set over plain HTTP on anything but localhost.
pub fn set_cookie(token: &str, request: &HeaderMap) -> Result<HeaderValue> {
    let secure = request
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    let value = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).map_err(|e| Error::internal_from("cookie value", e))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("latchkey_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; latchkey_session=abc123; other=x"),
        );
        assert_eq!(token_of(&headers), Some("abc123"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("latchkey_sessionx=1"),
        );
        assert_eq!(token_of(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_https() {
        let plain = set_cookie("t", &HeaderMap::new()).expect("cookie");
        let plain = plain.to_str().expect("ascii");
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let secure = set_cookie("t", &headers).expect("cookie");
        assert!(secure.to_str().expect("ascii").ends_with("; Secure"));
    }
}

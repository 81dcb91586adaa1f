//! Who is calling the admin API, and what they may do.
//!
//! Authentication happens once per request in the authentication middleware (`http::authenticate`): an API key
//! (`Authorization: Bearer lk_…`) or a dashboard session cookie becomes a [`Caller`] in
//! the request's extensions; a request with neither goes on as anonymous, so webhook
//! routes (authenticated by their source's signature) and the public operations routes
//! are not affected. Authorization happens in each handler's first extractor,
//! [`Authorized<P>`], whose [`Permission`] `P` names the roles allowed: 401 when there is
//! no caller, 403 when the caller's role is not among them.
//!
//! Roles ([`Role`]): `admin` may do everything; `desk` reads locks, codes, activity,
//! reservations and alerts, and syncs, regenerates, unlocks, resends a PIN and
//! acknowledges alerts; `partner` uploads plugins; `platform` reads the reservations it
//! sent (its webhooks are authenticated by their signatures, not by a key).

pub mod gate;
pub mod keys;
pub mod passwords;
pub mod permission;
pub mod sessions;

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_engine::Role;

use crate::error::Error;
pub use permission::Permission;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, by its id.
    Key(i64),
    /// A dashboard session (signed in with a key or a password); writes must carry its
    /// CSRF token.
    Session,
}

/// An authenticated caller, put in the request's extensions by
/// the authentication middleware (`http::authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who, as the audit log names them: `key:<name>` or `user:<username>`.
    pub actor: String,
    /// Their role.
    pub role: Role,
    /// How they authenticated.
    pub credential: Credential,
}

/// The caller of a handler, checked against the permission `P`. Put it first among a
/// handler's extractors, so that a refused caller learns nothing about the body.
///
/// Rejections (problem+json): 401 `unauthorized` without credentials, 403 `forbidden`
/// when the caller's role is not in `P::ROLES`.
#[derive(Debug, Clone)]
pub struct Authorized<P: Permission> {
    /// The caller.
    pub caller: Caller,
    permission: PhantomData<P>,
}

impl<P: Permission, S: Send + Sync> FromRequestParts<S> for Authorized<P> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let Some(caller) = parts.extensions.get::<Caller>().cloned() else {
            return Err(Error::Unauthorized(
                "sign in, or send an API key as `Authorization: Bearer lk_…`".into(),
            ));
        };
        if !P::ROLES.contains(&caller.role) {
            return Err(Error::Forbidden {
                role: caller.role,
                action: P::ACTION,
            });
        }
        Ok(Authorized {
            caller,
            permission: PhantomData,
        })
    }
}

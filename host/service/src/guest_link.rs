//! Links to a guest's own page (`GET /g/{token}`): no account, a signed token that names
//! the reservation and expires.
//!
//! A token is `{reservation}.{expires}.{mac}`: the reservation id in unpadded base64url,
//! the expiry in Unix seconds (UTC), and the HMAC-SHA256 of `{workspace}\n{reservation}\n
//! {expires}` under the workspace's secret (kept in the database, made on first use, so
//! every replica signs and checks alike), in unpadded base64url. Anyone holding the link
//! sees the guest's PINs until it expires, as anyone holding the e-mail would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use latchkey_engine::{ReservationId, Timestamp, WorkspaceId};
use latchkey_store::Conn;
use latchkey_store::guest_page;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::Sha256;

use crate::error::{Error, Result};

/// How long after the stay's last door closes a link keeps working, in seconds (a day:
/// time to find a forgotten code for the deposit box, not to come back).
pub const VALID_AFTER_STAY_SECS: i64 = 86_400;

/// Why a token was refused. Deliberately vague towards the visitor: the page says only
/// that the link is not valid or has expired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token, or not signed by this workspace.
    #[error("the link is not valid")]
    Invalid,
    /// Signed, but past its expiry.
    #[error("the link has expired")]
    Expired,
}

async fn secret(conn: &mut Conn, ws: &WorkspaceId, now: Timestamp) -> Result<Vec<u8>> {
    let stored = match guest_page::signing_secret(conn, ws).await? {
        Some(stored) => stored,
        None => {
            let mut fresh = [0u8; 32];
            StdRng::from_os_rng().fill_bytes(&mut fresh);
            let candidate = URL_SAFE_NO_PAD.encode(fresh);
            guest_page::make_signing_secret(conn, ws, &candidate, now).await?
        }
    };
    URL_SAFE_NO_PAD
        .decode(stored)
        .map_err(|e| Error::internal_from("the guest-link secret on record", e))
}

fn mac(secret: &[u8], ws: &WorkspaceId, reservation: &str, expires: i64) -> Result<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|e| Error::internal_from("guest-link key", e))?;
    mac.update(format!("{ws}\n{reservation}\n{expires}").as_bytes());
    Ok(mac)
}

/// A token for `reservation`'s page, valid until `expires` (UTC).
///
/// # Errors
/// Database errors.
pub async fn mint(
    conn: &mut Conn,
    ws: &WorkspaceId,
    reservation: &ReservationId,
    expires: Timestamp,
    now: Timestamp,
) -> Result<String> {
    let secret = secret(conn, ws, now).await?;
    let tag = mac(&secret, ws, reservation.as_str(), expires.unix())?
        .finalize()
        .into_bytes();
    Ok(format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(reservation.as_str()),
        expires.unix(),
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// The reservation `token` was minted for, checked against the workspace's secret (in
/// constant time) and its expiry at `now`.
///
/// # Errors
/// `Ok(Err(LinkError))` for a token that is malformed, forged or expired; database
/// errors.
pub async fn verify(
    conn: &mut Conn,
    ws: &WorkspaceId,
    token: &str,
    now: Timestamp,
) -> Result<std::result::Result<ReservationId, LinkError>> {
    let mut parts = token.splitn(3, '.');
    let (Some(id), Some(expires), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(Err(LinkError::Invalid));
    };
    let parsed = URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .zip(expires.parse::<i64>().ok())
        .zip(URL_SAFE_NO_PAD.decode(tag).ok());
    let Some(((id, expires), tag)) = parsed else {
        return Ok(Err(LinkError::Invalid));
    };
    let secret = secret(conn, ws, now).await?;
    if mac(&secret, ws, &id, expires)?.verify_slice(&tag).is_err() {
        return Ok(Err(LinkError::Invalid));
    }
    if now.unix() >= expires {
        return Ok(Err(LinkError::Expired));
    }
    Ok(ReservationId::parse(id).map_err(|_| LinkError::Invalid))
}

/// The page's address under `base_url` (`[guest_page] base_url`).
pub fn url(base_url: &str, token: &str) -> String {
    format!("{}/g/{token}", base_url.trim_end_matches('/'))
}

/// The address of `reservation`'s page under `base_url`, valid until
/// [`VALID_AFTER_STAY_SECS`] after `last_close`, the instant its stay's last door closes
/// (UTC).
///
/// # Errors
/// Database errors.
pub async fn link(
    conn: &mut Conn,
    ws: &WorkspaceId,
    base_url: &str,
    reservation: &ReservationId,
    last_close: Timestamp,
    now: Timestamp,
) -> Result<String> {
    let expires = last_close.plus(VALID_AFTER_STAY_SECS);
    Ok(url(
        base_url,
        &mint(conn, ws, reservation, expires, now).await?,
    ))
}

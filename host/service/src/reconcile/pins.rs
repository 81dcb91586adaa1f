//! Choosing PINs: the guest keeps one PIN across the property's locks where they allow
//! it, and no two live codes on one lock share a PIN.

use std::sync::Mutex;

use latchkey_engine::reconcile::pins::{self, is_guessable};
use latchkey_engine::{Lock, Pin, WorkspaceId};
use latchkey_store::{Conn, codes};
use rand::rngs::StdRng;

use crate::error::{Error, Result};

/// Attempts at a random PIN before giving up (the space is 10^6 or so, a lock holds at
/// most a few thousand codes, so this is never reached in practice).
const MAX_TRIES: usize = 64;

/// The PIN for a new code on `lock`: the guest's PIN when the lock accepts it and no other
/// live code on the lock (other than `except`) uses it; otherwise a fresh random one.
///
/// # Errors
/// [`Error::Internal`] if no free PIN was found; database errors.
pub async fn choose(
    conn: &mut Conn,
    ws: &WorkspaceId,
    lock: &Lock,
    guest_pin: Option<&Pin>,
    except: Option<i64>,
    rng: &Mutex<StdRng>,
) -> Result<Pin> {
    let rules = &lock.capabilities.pin;
    if let Some(pin) = guest_pin
        && rules.check(pin.as_str()).is_ok()
        && !codes::pin_in_use(conn, ws, &lock.id, pin, except).await?
    {
        return Ok(pin.clone());
    }
    for _ in 0..MAX_TRIES {
        let drawn = pins::draw(rules, &mut *rng.lock().unwrap_or_else(|p| p.into_inner()));
        let Some(pin) = drawn else {
            return Err(Error::config(format!(
                "lock `{}` declares an empty PIN alphabet",
                lock.id
            )));
        };
        if rules.check(pin.as_str()).is_ok()
            && !is_guessable(pin.as_str())
            && !codes::pin_in_use(conn, ws, &lock.id, &pin, except).await?
        {
            return Ok(pin);
        }
    }
    Err(Error::internal(format!(
        "no free PIN found for lock `{}` after {MAX_TRIES} tries",
        lock.id
    )))
}

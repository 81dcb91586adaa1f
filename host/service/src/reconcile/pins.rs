//! Choosing PINs: the guest keeps one PIN across the property's locks where they allow
//! it, and no two live codes on one lock share a PIN.

use std::sync::Mutex;

use latchkey_engine::{Lock, Pin, WorkspaceId};
use latchkey_store::{Conn, codes};
use rand::Rng;
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
    let alphabet: Vec<char> = rules.alphabet.chars().collect();
    if alphabet.is_empty() {
        return Err(Error::Config(format!(
            "lock `{}` declares an empty PIN alphabet",
            lock.id
        )));
    }
    for _ in 0..MAX_TRIES {
        let candidate: String = {
            let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
            (0..rules.max_len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect()
        };
        let pin = Pin::new(candidate);
        if rules.check(pin.as_str()).is_ok()
            && !is_guessable(pin.as_str())
            && !codes::pin_in_use(conn, ws, &lock.id, &pin, except).await?
        {
            return Ok(pin);
        }
    }
    Err(Error::Internal(format!(
        "no free PIN found for lock `{}` after {MAX_TRIES} tries",
        lock.id
    )))
}

/// True for a PIN anyone would try first: one digit repeated (`777777`) or a straight run
/// up or down (`345678`, `987654`). TTLock refuses these as "too simple" (errcode -2032,
/// `../shared/reference/lock-providers.md` §2.9); no lock should hold them.
pub fn is_guessable(pin: &str) -> bool {
    let digits: Vec<i32> = pin
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as i32)
        .collect();
    if digits.len() < 2 || digits.len() != pin.chars().count() {
        return false;
    }
    let steps: Vec<i32> = digits.windows(2).map(|w| w[1] - w[0]).collect();
    [0, 1, -1]
        .iter()
        .any(|step| steps.iter().all(|s| s == step))
}

#[cfg(test)]
mod tests {
    use super::is_guessable;

    #[test]
    fn repeated_digits_and_straight_runs_are_guessable() {
        for pin in ["777777", "345678", "987654", "0123456789"] {
            assert!(is_guessable(pin), "{pin}");
        }
        for pin in ["345679", "579135", "112233", "1", "12a456"] {
            assert!(!is_guessable(pin), "{pin}");
        }
    }
}

//! The admin API's per-caller rate limit: its settings and the limiter the
//! authentication middleware (`http::authenticate`) admits each caller through.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::Caller;
use crate::error::{Error, Result};

/// The admin API's limits.
#[derive(Debug, Clone, Copy)]
pub struct AccessSettings {
    /// Requests per second each key or user may sustain.
    pub requests_per_second: NonZeroU32,
    /// Requests each may make at once above the sustained rate.
    pub burst: NonZeroU32,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            requests_per_second: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl AccessSettings {
    /// No practical limit (a million requests a second): for the replay, whose oracle
    /// reads thousands of reservations through the API in a few seconds.
    pub fn unlimited() -> AccessSettings {
        let million = NonZeroU32::new(1_000_000).unwrap_or(NonZeroU32::MAX);
        AccessSettings {
            requests_per_second: million,
            burst: million,
        }
    }
}

/// The per-caller rate limiter, keyed by actor (`key:<name>`, `user:<name>`).
pub struct Gate {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate enforcing `settings`.
    pub fn new(settings: AccessSettings) -> Gate {
        Gate {
            limiter: RateLimiter::keyed(
                Quota::per_second(settings.requests_per_second).allow_burst(settings.burst),
            ),
        }
    }

    /// Lets `caller` through, or says how long to wait.
    ///
    /// # Errors
    /// [`Error::RateLimited`].
    pub fn admit(&self, caller: &Caller) -> Result<()> {
        self.limiter.check_key(&caller.actor).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

//! Time is an input: one clock interface, the system clock in `serve`, a simulated clock in
//! `replay` and tests, so that "issue three days before arrival" runs in milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::Timestamp;

/// The source of "now" for everything in the host. Instants are UTC Unix seconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp())
    }
}

/// A clock that moves only when told to. Clones share the same instant.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<AtomicI64>);

impl SimClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> SimClock {
        SimClock(Arc::new(AtomicI64::new(at.unix())))
    }

    /// Moves the clock to `at`; never backwards (a later call with an earlier instant is
    /// ignored), so time stays monotonic for everything reading it.
    pub fn advance_to(&self, at: Timestamp) {
        self.0.fetch_max(at.unix(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_by(&self, secs: i64) {
        self.0.fetch_add(secs.max(0), Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_is_shared_and_monotonic() {
        let a = SimClock::new(Timestamp(100));
        let b = a.clone();
        a.advance_to(Timestamp(200));
        b.advance_to(Timestamp(150));
        assert_eq!(a.now(), Timestamp(200));
        b.advance_by(5);
        assert_eq!(a.now(), Timestamp(205));
    }
}

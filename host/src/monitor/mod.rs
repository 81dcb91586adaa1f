//! Lock monitoring: the lock sync and its alerts (work in progress).

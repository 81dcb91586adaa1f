//! Regenerate PINs for one lock (work in progress).

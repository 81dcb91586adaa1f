//! The ttlock client (work in progress).

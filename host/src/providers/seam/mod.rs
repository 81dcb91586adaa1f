//! The seam client (work in progress).

//! The igloohome client (work in progress).

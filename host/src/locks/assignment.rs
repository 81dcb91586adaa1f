//! Branch assignment of locks (work in progress).

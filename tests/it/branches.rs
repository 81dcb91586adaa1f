//! Branches, assignment and regeneration through the service (work in progress).

//! The `latchkey` command line (work in progress).

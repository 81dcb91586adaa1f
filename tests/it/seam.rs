//! The seam client against its contract fake over loopback (work in progress).

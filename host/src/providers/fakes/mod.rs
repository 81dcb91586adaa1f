//! Contract fakes of the lock makers' clouds: HTTP servers that follow each published API,
//! with a model of every lock (which PIN opens which door when) and faults on demand. The
//! provider clients are tested against them over loopback, and `latchkey replay` can run
//! against them.

pub mod nuki;

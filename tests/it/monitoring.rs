//! Lock sync and alerts through the service (work in progress).

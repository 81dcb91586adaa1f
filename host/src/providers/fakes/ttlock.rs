//! A contract fake of the ttlock cloud (work in progress).

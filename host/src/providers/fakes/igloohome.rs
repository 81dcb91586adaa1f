//! A contract fake of the igloohome cloud (work in progress).

//! A contract fake of the seam cloud (work in progress).

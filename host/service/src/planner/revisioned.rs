//! A copy of something admins change at run time, kept at the revision on record it was
//! loaded at.

use std::sync::{PoisonError, RwLock, RwLockReadGuard};

/// This process's copy of a value the database holds (the active rule, the lock branch
/// assignments), with the revision it was loaded at (`workspace_revisions`, see
/// [`latchkey_store::revisions`]). Reads never wait on the database; the owner reloads the
/// copy when the revision on record differs from [`Revisioned::revision`]. Two loads racing
/// leave the newer one: a load that finishes late never puts an older copy back.
#[derive(Debug)]
pub struct Revisioned<T> {
    current: RwLock<(T, Option<i64>)>,
}

impl<T> Revisioned<T> {
    /// `initial`, at no revision: the first refresh loads what the database says.
    pub fn new(initial: T) -> Revisioned<T> {
        Revisioned {
            current: RwLock::new((initial, None)),
        }
    }

    /// The revision the copy was loaded at; `None` before the first load.
    pub fn revision(&self) -> Option<i64> {
        self.read().1
    }

    /// Reads the copy.
    pub fn with<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        read(&self.read().0)
    }

    /// Puts `value`, loaded at `revision`, in place unless a newer revision already is, and
    /// reads the copy then in force.
    pub fn set<R>(&self, value: T, revision: i64, read: impl FnOnce(&T) -> R) -> R {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.1.is_none_or(|at| at <= revision) {
            *current = (value, Some(revision));
        }
        read(&current.0)
    }

    fn read(&self) -> RwLockReadGuard<'_, (T, Option<i64>)> {
        // Written whole in one assignment: never half-updated, even after a panic.
        self.current.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_load_of_an_older_revision_never_replaces_a_newer_copy() {
        let copy = Revisioned::new("file");
        assert_eq!(copy.revision(), None);
        assert_eq!(copy.set("v3", 3, |v| *v), "v3");
        assert_eq!(copy.set("v2", 2, |v| *v), "v3", "the older load loses");
        assert_eq!(copy.revision(), Some(3));
        assert_eq!(copy.set("v3 again", 3, |v| *v), "v3 again");
        assert_eq!(copy.set("v4", 4, |v| *v), "v4");
        assert_eq!(copy.with(|v| *v), "v4");
    }
}

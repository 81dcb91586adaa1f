//! Which branch each lock belongs to: this process's copy of the effective branches.
//!
//! The effective branch of a lock is the assignment on record (made through
//! `PUT /v1/locks/{lock}/branch`, table `lock_assignments`, see
//! module `locks::assignment`) if there is one, else the branch `property.toml` gives it.
//! A lock with no effective branch is *unassigned*: the reconciler never shows it to the
//! rule and drops any grant for it, so it gets no codes (and the codes it had are
//! revoked), and it raises no monitoring alerts ([`Assignments::is_assigned`]).

use std::collections::HashMap;

use latchkey_engine::{BranchId, Lock, LockId, Timestamp};
use latchkey_store::Conn;
use latchkey_store::assignments::{self as stored, AssignmentRow};
use serde::Serialize;

use super::revisioned::Revisioned;
use crate::catalog::Catalog;
use crate::error::Result;

/// Where a lock's effective branch comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `property.toml` (no assignment on record).
    Property,
    /// An assignment made through the API, which overrides the property file.
    Api,
}

/// A lock's effective branch, as `GET /v1/locks/{lock}/branch` shows it:
/// `{"lock": "room-101", "branch": "main" | null, "origin": "property" | "api",
/// "updated_at": <Unix seconds, UTC> | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// The lock.
    pub lock: LockId,
    /// Its branch; `None` (JSON `null`): unassigned.
    pub branch: Option<BranchId>,
    /// Where the branch comes from.
    pub origin: Origin,
    /// When the assignment on record was made (Unix seconds, UTC); `None` for the
    /// property file's.
    pub updated_at: Option<Timestamp>,
}

/// This process's copy of every configured lock's effective branch. The database is the
/// truth: the copy is reloaded whenever the assignment revision on record differs from
/// the one it was loaded at ([`Assignments::refresh`], called before every plan and every
/// answer that shows a branch), so a lock assigned through any replica is planned for by
/// all. Reads between refreshes never wait on the database.
#[derive(Debug)]
pub struct Assignments {
    current: Revisioned<HashMap<LockId, Assignment>>,
    /// Serialises this process's changes (assignments and regenerations), so that two of
    /// its requests never interleave their plans.
    pub(crate) changing: tokio::sync::Mutex<()>,
}

impl Assignments {
    /// The property file's branches, at no revision: the first [`Assignments::refresh`]
    /// loads the assignments on record.
    pub fn new(catalog: &Catalog) -> Assignments {
        Assignments {
            current: Revisioned::new(effective_branches(catalog, Vec::new())),
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// Reloads the assignments of the catalog's workspace when `revision` (the assignment
    /// revision just read from the database) differs from the one the copy was loaded at.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh(&self, conn: &mut Conn, catalog: &Catalog, revision: i64) -> Result<()> {
        if self.current.revision() == Some(revision) {
            return Ok(());
        }
        // Read after the revision: what is loaded is at least as new as the revision kept.
        let recorded = stored::load(conn, &catalog.workspace).await?;
        self.current
            .set(effective_branches(catalog, recorded), revision, |_| ());
        Ok(())
    }

    /// The lock's effective assignment; `None` for a lock the catalog does not have.
    pub fn get(&self, lock: &LockId) -> Option<Assignment> {
        self.current.with(|by_lock| by_lock.get(lock).cloned())
    }

    /// The lock's effective branch; `None` when unassigned or unknown.
    pub fn branch_of(&self, lock: &LockId) -> Option<BranchId> {
        self.current
            .with(|by_lock| by_lock.get(lock).and_then(|a| a.branch.clone()))
    }

    /// True when the lock belongs to a branch. An unassigned (or unknown) lock gets no codes
    /// and must raise no alerts.
    pub fn is_assigned(&self, lock: &LockId) -> bool {
        self.current
            .with(|by_lock| by_lock.get(lock).is_some_and(|a| a.branch.is_some()))
    }

    /// `locks` as the rule must see them: each with its effective branch, unassigned ones
    /// removed.
    pub fn effective(&self, locks: Vec<Lock>) -> Vec<Lock> {
        self.current.with(|by_lock| {
            locks
                .into_iter()
                .filter_map(|mut l| {
                    l.branch = by_lock.get(&l.id).and_then(|a| a.branch.clone());
                    l.branch.is_some().then_some(l)
                })
                .collect()
        })
    }
}

/// The catalog's branches, overridden by the assignments on record. A recorded lock the
/// catalog no longer has is ignored; a recorded branch it no longer has leaves the lock
/// unassigned (and is logged), so no lock opens for a branch that was removed.
fn effective_branches(
    catalog: &Catalog,
    recorded: Vec<AssignmentRow>,
) -> HashMap<LockId, Assignment> {
    let mut by_lock: HashMap<LockId, Assignment> = catalog
        .locks
        .iter()
        .map(|l| {
            let a = Assignment {
                lock: l.id.clone(),
                branch: l.branch.clone(),
                origin: Origin::Property,
                updated_at: None,
            };
            (l.id.clone(), a)
        })
        .collect();
    for row in recorded {
        let Some(slot) = by_lock.get_mut(&row.lock) else {
            continue;
        };
        let branch = match row.branch {
            Some(b) if catalog.branch(&b).is_none() => {
                tracing::warn!(lock = %row.lock, branch = %b, "assigned branch no longer exists; the lock is unassigned");
                None
            }
            b => b,
        };
        *slot = Assignment {
            lock: row.lock,
            branch,
            origin: Origin::Api,
            updated_at: Some(row.updated_at),
        };
    }
    by_lock
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::{Capabilities, Connectivity, DoorKind, PinRules, WindowPrecision};

    fn lock(id: &str, branch: Option<&str>) -> Lock {
        Lock {
            id: LockId::parse(id).expect("id"),
            name: String::new(),
            provider: "simulator".into(),
            device: None,
            door: DoorKind::Shared,
            branch: branch.map(|b| BranchId::parse(b).expect("branch")),
            resources: Vec::new(),
            capabilities: Capabilities {
                connectivity: Connectivity::Online,
                custom_pin: true,
                precision: WindowPrecision::Minute,
                can_revoke: true,
                can_update: true,
                remote_unlock: false,
                max_codes: 100,
                pin: PinRules {
                    min_len: 6,
                    max_len: 6,
                    alphabet: "0123456789".into(),
                    forbidden_prefixes: Vec::new(),
                },
            },
            overflow: None,
        }
    }

    fn catalog(locks: Vec<Lock>) -> Catalog {
        let toml = r#"
            workspace = "demo"
            rules = "rule.rhai"
            [property]
            id = "p"
            name = "P"
            timezone = "Europe/Lisbon"
            check_in_time = "15:00"
            check_out_time = "11:00"
            day_use_start = "09:00"
            day_use_end = "18:00"
            requires_payment = false
            [[branches]]
            id = "main"
            name = "Main"
            [[branches]]
            id = "annex"
            name = "Annex"
        "#;
        let file: crate::catalog::CatalogFile = toml::from_str(toml).expect("catalog toml");
        Catalog {
            workspace: file.workspace,
            property: file.property,
            branches: file.branches,
            resources: Vec::new(),
            locks,
            sources: Vec::new(),
            provider_hooks: Vec::new(),
            rule_path: "rule.rhai".into(),
            notifications: Default::default(),
            instructions: Default::default(),
            capacity: Default::default(),
            backup: Default::default(),
            guest_page: Default::default(),
        }
    }

    fn row(lock: &str, branch: Option<&str>) -> AssignmentRow {
        AssignmentRow {
            lock: LockId::parse(lock).expect("id"),
            branch: branch.map(|b| BranchId::parse(b).expect("branch")),
            updated_at: Timestamp(1_000),
        }
    }

    fn with_records(catalog: &Catalog, recorded: Vec<AssignmentRow>) -> Assignments {
        let assignments = Assignments::new(catalog);
        assignments
            .current
            .set(effective_branches(catalog, recorded), 1, |_| ());
        assignments
    }

    fn id(s: &str) -> LockId {
        LockId::parse(s).expect("id")
    }

    #[test]
    fn a_recorded_assignment_overrides_the_property_file() {
        let c = catalog(vec![
            lock("a", Some("main")),
            lock("b", None),
            lock("c", Some("main")),
        ]);
        let a = with_records(
            &c,
            vec![
                row("a", None),
                row("b", Some("annex")),
                row("gone", Some("main")),
            ],
        );
        assert!(!a.is_assigned(&id("a")), "unassigned through the API");
        assert_eq!(a.get(&id("a")).map(|x| x.origin), Some(Origin::Api));
        assert_eq!(
            a.branch_of(&id("b")).map(|b| b.to_string()),
            Some("annex".into())
        );
        assert_eq!(
            a.branch_of(&id("c")).map(|b| b.to_string()),
            Some("main".into())
        );
        assert_eq!(a.get(&id("c")).map(|x| x.origin), Some(Origin::Property));
        assert!(
            a.get(&id("gone")).is_none(),
            "locks not in the catalog are ignored"
        );
        assert!(!a.is_assigned(&id("gone")));
    }

    #[test]
    fn a_recorded_branch_that_no_longer_exists_leaves_the_lock_unassigned() {
        let c = catalog(vec![lock("a", Some("main"))]);
        let a = with_records(&c, vec![row("a", Some("demolished"))]);
        assert!(!a.is_assigned(&id("a")));
    }

    #[test]
    fn the_rule_sees_effective_branches_and_never_an_unassigned_lock() {
        let c = catalog(vec![
            lock("a", Some("main")),
            lock("b", None),
            lock("c", Some("main")),
        ]);
        let a = with_records(&c, vec![row("a", None), row("b", Some("annex"))]);
        let seen = a.effective(c.locks.clone());
        let view: Vec<(String, Option<String>)> = seen
            .iter()
            .map(|l| (l.id.to_string(), l.branch.as_ref().map(|b| b.to_string())))
            .collect();
        assert_eq!(
            view,
            vec![
                ("b".to_owned(), Some("annex".to_owned())),
                ("c".to_owned(), Some("main".to_owned())),
            ]
        );
    }
}

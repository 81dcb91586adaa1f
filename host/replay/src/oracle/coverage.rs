//! Lockouts and stale access: required and permitted opening instants per reservation and
//! door, compared with what the codes actually opened.

use std::collections::{BTreeSet, HashMap, HashSet};

use latchkey_engine::{DoorKind, LockId, Property, ReservationId, ResourceId, Timestamp};

use super::intervals::{Span, clip, normalize, subtract};
use super::policy::{Piece, access_window, opens_door, pieces, rounded};
use super::{
    Acked, FaultWindow, LockHistory, OraclePolicy, Origin, UnrevocableAlert, Violation,
    ViolationKind,
};

/// Everything indexed once, so each check is a lookup plus a merge.
pub(super) struct Context<'a> {
    pub(super) policy: &'a OraclePolicy,
    pub(super) property: &'a Property,
    pub(super) locks: &'a [LockHistory],
    pub(super) end: i64,
    pub(super) states: HashMap<&'a ReservationId, Vec<Piece<'a>>>,
    /// (reservation, lock index) → instants its codes open that lock (a set).
    pub(super) openings: HashMap<(Option<&'a ReservationId>, usize), Vec<Span>>,
    /// Lock index → outages, sorted by start.
    outages: HashMap<usize, Vec<Span>>,
    by_resource: HashMap<&'a ResourceId, Vec<usize>>,
    shared: Vec<usize>,
    alerts: HashSet<(&'a LockId, &'a ReservationId)>,
    /// (reservation, lock index) → instants a backup code was given to it there.
    given: HashMap<(&'a ReservationId, usize), Vec<i64>>,
    /// Lock index → the index of the door the property names for its overflow.
    overflow: HashMap<usize, usize>,
}

impl<'a> Context<'a> {
    pub(super) fn new(
        policy: &'a OraclePolicy,
        property: &'a Property,
        acked: &'a [Acked],
        locks: &'a [LockHistory],
        faults: &'a [FaultWindow],
        alerts: &'a [UnrevocableAlert],
        end: Timestamp,
    ) -> Self {
        let end = end.unix();
        let mut grouped: HashMap<&ReservationId, Vec<&Acked>> = HashMap::new();
        for a in acked {
            grouped.entry(&a.reservation.id).or_default().push(a);
        }
        let states = grouped
            .into_iter()
            .map(|(id, acks)| (id, pieces(acks)))
            .collect();
        let index: HashMap<&LockId, usize> = locks
            .iter()
            .enumerate()
            .map(|(i, l)| (&l.lock, i))
            .collect();
        let mut openings: HashMap<_, Vec<Span>> = HashMap::new();
        let mut given: HashMap<(&ReservationId, usize), Vec<i64>> = HashMap::new();
        let mut by_resource: HashMap<&ResourceId, Vec<usize>> = HashMap::new();
        let mut shared = Vec::new();
        for (i, lock) in locks.iter().enumerate() {
            for seg in &lock.segments {
                match seg.origin {
                    // Known to nobody: it opens the door for no one.
                    Origin::Pool => continue,
                    Origin::Given => {
                        if let Some(r) = &seg.reservation {
                            given
                                .entry((r, i))
                                .or_default()
                                .push(seg.present_from.unix());
                        }
                    }
                    Origin::Planned => {}
                }
                let until = seg.present_until.map_or(end, |u| u.unix().min(end));
                let span = (seg.window.starts_at.unix(), seg.window.ends_at.unix());
                if let Some(s) = clip(span, seg.present_from.unix(), until) {
                    openings
                        .entry((seg.reservation.as_ref(), i))
                        .or_default()
                        .push(s);
                }
                for (rider, _) in &seg.riders {
                    let Some(from) = seg.held_from(rider) else {
                        continue;
                    };
                    if let Some(s) = clip(span, from.unix(), until) {
                        openings.entry((Some(rider), i)).or_default().push(s);
                    }
                }
            }
            match lock.door {
                DoorKind::Private => lock
                    .resources
                    .iter()
                    .for_each(|r| by_resource.entry(r).or_default().push(i)),
                DoorKind::Shared => shared.push(i),
            }
        }
        for spans in openings.values_mut() {
            *spans = normalize(std::mem::take(spans));
        }
        let mut outages: HashMap<usize, Vec<Span>> = HashMap::new();
        for f in faults {
            if let Some(&i) = index.get(&f.lock) {
                outages
                    .entry(i)
                    .or_default()
                    .push((f.from.unix(), f.until.unix()));
            }
        }
        outages.values_mut().for_each(|v| v.sort_unstable());
        let overflow: HashMap<usize, usize> = locks
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, *index.get(l.overflow.as_ref()?)?)))
            .collect();
        // An overflow door is nobody's by itself: only a guest of the door it stands in
        // for may hold a code there.
        shared.retain(|i| !overflow.values().any(|o| o == i));
        let alerts = alerts.iter().map(|a| (&a.lock, &a.reservation)).collect();
        Context {
            policy,
            property,
            locks,
            end,
            states,
            openings,
            outages,
            by_resource,
            shared,
            alerts,
            given,
            overflow,
        }
    }

    /// The doors whose codes let a guest entitled to door `i` in: `i`, and the door the
    /// property names for its overflow.
    pub(super) fn serving(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(i).chain(self.overflow.get(&i).copied())
    }

    /// The instants codes of reservation `id` let it through door `i` (on the door or on
    /// its overflow door).
    pub(super) fn covered(&self, id: &'a ReservationId, i: usize) -> Vec<Span> {
        normalize(
            self.serving(i)
                .flat_map(|d| self.openings.get(&(Some(id), d)).into_iter().flatten())
                .copied()
                .collect(),
        )
    }

    /// The doors (lock indices) whose entitlement a code on door `i` may stand for: `i`
    /// itself, or, for an overflow door, the doors it stands in for.
    fn stands_for(&self, i: usize) -> Vec<usize> {
        let served: Vec<usize> = self
            .overflow
            .iter()
            .filter(|&(_, &o)| o == i)
            .map(|(&m, _)| m)
            .collect();
        if served.is_empty() { vec![i] } else { served }
    }

    /// The doors (lock indices) any state of a reservation may concern.
    pub(super) fn doors(&self, states: &[Piece<'a>]) -> BTreeSet<usize> {
        let mut doors: BTreeSet<usize> = self.shared.iter().copied().collect();
        for p in states {
            for r in &p.state.resources {
                doors.extend(self.by_resource.get(r).into_iter().flatten().copied());
            }
        }
        doors
    }

    /// The instants at which the states entitle the guest to door `i`, each change of
    /// entitlement counted from `grace` after the webhook that caused it.
    pub(super) fn required(&self, states: &[Piece<'a>], i: usize) -> Vec<Span> {
        let grace = self.policy.grace_secs;
        let lock = &self.locks[i];
        let mut required = Vec::new();
        let (mut prev, mut cause) = (None, i64::MIN);
        for p in states {
            let w = if opens_door(lock, p.state) {
                access_window(self.policy, self.property, p.state)
            } else {
                None
            };
            if w != prev {
                cause = p.from;
            }
            prev = w;
            if let Some(w) = w {
                let from = p.from.max(cause.saturating_add(grace)).max(w.0);
                required.push((from, p.until.min(w.1).min(self.end)));
            }
        }
        normalize(required)
    }

    /// The outages of lock `i`, each extended by `grace`: time the service is excused.
    pub(super) fn excused(&self, i: usize) -> Vec<Span> {
        let grace = self.policy.grace_secs;
        normalize(
            self.outages
                .get(&i)
                .into_iter()
                .flatten()
                .map(|&(f, u)| (f, u.saturating_add(grace)))
                .collect(),
        )
    }

    pub(super) fn lockouts(
        &self,
        id: &'a ReservationId,
        states: &[Piece<'a>],
        out: &mut Vec<Violation>,
    ) {
        for i in self.doors(states) {
            let lock = &self.locks[i];
            let required = self.required(states, i);
            if required.is_empty() {
                continue;
            }
            let covered = self.covered(id, i);
            let excused = normalize(self.serving(i).flat_map(|d| self.excused(d)).collect());
            let gaps = subtract(&subtract(&required, &covered), &excused);
            for (a, b) in gaps {
                out.push(Violation {
                    kind: ViolationKind::Lockout,
                    reservation: Some(id.clone()),
                    lock: Some(lock.lock.clone()),
                    at: Timestamp(a),
                    detail: format!(
                        "entitled guest has no code opening the door for {} s, until {}",
                        b - a,
                        Timestamp(b)
                    ),
                });
            }
        }
    }

    pub(super) fn stale(
        &self,
        res: Option<&'a ReservationId>,
        i: usize,
        openings: &[Span],
        out: &mut Vec<Violation>,
    ) {
        let lock = &self.locks[i];
        if res.is_some_and(|r| self.alerts.contains(&(&lock.lock, r))) {
            return;
        }
        let mut allowed = Vec::new();
        let doors = self.stands_for(i);
        for p in res.and_then(|r| self.states.get(r)).into_iter().flatten() {
            if !doors.iter().any(|&d| opens_door(&self.locks[d], p.state)) {
                continue;
            }
            if let Some(w) = access_window(self.policy, self.property, p.state) {
                let w = rounded(w, lock.precision);
                allowed.extend(clip(w, p.from, self.revoke_deadline(i, p.until)));
            }
        }
        // A backup code given to the guest opens the door with its pool's long window
        // until the lock narrows it to the guest's.
        for &at in res
            .and_then(|r| self.given.get(&(r, i)))
            .into_iter()
            .flatten()
        {
            allowed.push((at, self.revoke_deadline(i, at)));
        }
        for (a, b) in subtract(openings, &normalize(allowed)) {
            let who = res.map_or_else(
                || "a code not made by Latchkey".to_string(),
                |r| format!("a code of {r}"),
            );
            out.push(Violation {
                kind: ViolationKind::StaleAccess,
                reservation: res.cloned(),
                lock: Some(lock.lock.clone()),
                at: Timestamp(a),
                detail: format!(
                    "{who} opens the door without entitlement for {} s, until {}",
                    b - a,
                    Timestamp(b)
                ),
            });
        }
    }

    /// `grace` after a state change at `changed`, pushed to `grace` after the end of every
    /// outage of lock `i` that overlaps the time until then.
    fn revoke_deadline(&self, i: usize, changed: i64) -> i64 {
        let grace = self.policy.grace_secs;
        let mut deadline = changed.saturating_add(grace);
        if changed == i64::MAX {
            return deadline;
        }
        for &(from, until) in self.outages.get(&i).into_iter().flatten() {
            if from >= deadline {
                break;
            }
            if until > changed {
                deadline = deadline.max(until.saturating_add(grace));
            }
        }
        deadline
    }
}

use crate::{AccessCode, Connectivity, PinRules, ReservationId, WindowPrecision};

use super::*;

const H: i64 = 3600;

fn caps(can_update: bool, can_revoke: bool) -> Capabilities {
    Capabilities {
        connectivity: if can_revoke {
            Connectivity::Online
        } else {
            Connectivity::Offline
        },
        custom_pin: can_revoke,
        precision: WindowPrecision::Minute,
        can_revoke,
        can_update,
        remote_unlock: false,
        max_codes: 100,
        pin: PinRules {
            min_len: 6,
            max_len: 6,
            alphabet: "123456789".into(),
            forbidden_prefixes: vec![],
        },
    }
}

fn lock(id: &str) -> LockId {
    LockId::parse(id).expect("id")
}

fn w(from_h: i64, to_h: i64) -> Window {
    Window {
        starts_at: Timestamp(from_h * H),
        ends_at: Timestamp(to_h * H),
    }
}

fn grant(l: &str, window: Window, issue_h: i64) -> Grant {
    Grant {
        lock: lock(l),
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        issue_at: Some(Timestamp(issue_h * H)),
        credential: Default::default(),
        when_full: Default::default(),
    }
}

fn code(id: i64, l: &str, window: Window, state: CodeState) -> CodeRecord {
    CodeRecord {
        code: AccessCode {
            id,
            reservation: ReservationId::parse("R").expect("id"),
            lock: lock(l),
            pin: None,
            window,
            lock_window: None,
            state,
            provider_ref: None,
        },
        replaces: None,
        unrevocable: false,
        pulled_at: None,
    }
}

fn online(_: &LockId) -> Option<Capabilities> {
    Some(caps(true, true))
}

fn offline(_: &LockId) -> Option<Capabilities> {
    Some(caps(false, false))
}

#[test]
fn future_grant_schedules_a_wake_up_at_issue_time() {
    let d = diff(
        &[grant("a", w(100, 200), 28)],
        &[],
        online,
        Timestamp(10 * H),
    );
    assert!(d.actions.is_empty());
    assert_eq!(d.wake_at, Some(Timestamp(28 * H)));
}

#[test]
fn due_grant_creates_then_plans_nothing_once_recorded() {
    let g = [grant("a", w(100, 200), 28)];
    let d = diff(&g, &[], online, Timestamp(30 * H));
    assert_eq!(
        d.actions,
        [Action::Create {
            lock: lock("a"),
            window: w(100, 200)
        }]
    );
    for state in [CodeState::Pending, CodeState::Active] {
        let again = diff(
            &g,
            &[code(1, "a", w(100, 200), state)],
            online,
            Timestamp(30 * H),
        );
        assert!(
            again.actions.is_empty(),
            "second run plans nothing ({state:?})"
        );
        assert_eq!(
            again.wake_at,
            Some(Timestamp(200 * H)),
            "wakes when the window ends"
        );
    }
}

#[test]
fn date_change_updates_in_place_or_replaces() {
    let g = [grant("a", w(120, 200), 28)];
    let codes = [code(1, "a", w(100, 200), CodeState::Active)];
    assert_eq!(
        diff(&g, &codes, online, Timestamp(30 * H)).actions,
        [Action::Update {
            code: 1,
            window: w(120, 200)
        }]
    );
    assert_eq!(
        diff(&g, &codes, offline, Timestamp(30 * H)).actions,
        [Action::Replace {
            old: 1,
            lock: lock("a"),
            window: w(120, 200)
        }]
    );
}

#[test]
fn replaced_code_stays_until_its_successor_is_active() {
    let g = [grant("a", w(120, 200), 28)];
    let mut old = code(1, "a", w(100, 200), CodeState::Active);
    old.unrevocable = false;
    let mut new = code(2, "a", w(120, 200), CodeState::Pending);
    new.replaces = Some(1);
    let pending = diff(&g, &[old.clone(), new.clone()], online, Timestamp(30 * H));
    assert!(pending.actions.is_empty(), "{:?}", pending.actions);
    new.code.state = CodeState::Active;
    assert_eq!(
        diff(&g, &[old, new], online, Timestamp(30 * H)).actions,
        [Action::Revoke { code: 1 }]
    );
}

#[test]
fn room_move_revokes_old_room_and_creates_new() {
    let g = [grant("b", w(100, 200), 28)];
    let codes = [code(1, "a", w(100, 200), CodeState::Active)];
    let d = diff(&g, &codes, online, Timestamp(30 * H));
    assert_eq!(
        d.actions,
        [
            Action::Create {
                lock: lock("b"),
                window: w(100, 200)
            },
            Action::Revoke { code: 1 }
        ]
    );
}

#[test]
fn cancellation_on_offline_lock_alerts_once_and_waits_for_expiry() {
    let mut c = code(1, "a", w(100, 200), CodeState::Active);
    let d = diff(&[], std::slice::from_ref(&c), offline, Timestamp(30 * H));
    assert_eq!(d.actions, [Action::Unrevocable { code: 1 }]);
    assert_eq!(d.wake_at, Some(Timestamp(200 * H)));
    c.unrevocable = true;
    assert!(
        diff(&[], std::slice::from_ref(&c), offline, Timestamp(30 * H))
            .actions
            .is_empty()
    );
    assert_eq!(
        diff(&[], &[c], offline, Timestamp(200 * H)).actions,
        [Action::Expire {
            code: 1,
            cleanup: false
        }]
    );
}

#[test]
fn ended_window_expires_and_cleans_up_revocable_locks() {
    let g = [grant("a", w(100, 200), 28)];
    let codes = [code(1, "a", w(100, 200), CodeState::Active)];
    let d = diff(&g, &codes, online, Timestamp(200 * H));
    assert_eq!(
        d.actions,
        [Action::Expire {
            code: 1,
            cleanup: true
        }]
    );
    assert_eq!(d.wake_at, None);
}

#[test]
fn rounded_lock_window_keeps_the_code_until_the_lock_stops_it() {
    let mut c = code(1, "a", w(100, 200), CodeState::Active);
    c.code.lock_window = Some(w(100, 201));
    let d = diff(&[], &[c], offline, Timestamp(200 * H));
    assert_eq!(
        d.actions,
        [Action::Unrevocable { code: 1 }],
        "still opens for an hour"
    );
}

#[test]
fn natural_end_on_offline_lock_raises_no_alarm() {
    let g = [grant("a", w(100, 200), 28)];
    let mut c = code(1, "a", w(100, 200), CodeState::Active);
    c.code.lock_window = Some(w(100, 201));
    let d = diff(&g, &[c], offline, Timestamp(200 * H));
    assert!(d.actions.is_empty(), "{:?}", d.actions);
    assert_eq!(d.wake_at, Some(Timestamp(201 * H)));
}

#[test]
fn the_run_that_creates_a_code_wakes_at_its_window_end() {
    let d = diff(
        &[grant("a", w(100, 200), 28)],
        &[],
        online,
        Timestamp(30 * H),
    );
    assert_eq!(d.wake_at, Some(Timestamp(200 * H)));
}

#[test]
fn a_code_that_outlasts_its_ended_grant_is_excess_access() {
    // Check-out shortened the window to 150 h; the replacement never made it onto the
    // offline lock, and the old code still runs to 200 h.
    let g = [grant("a", w(100, 150), 28)];
    let mut failed = code(2, "a", w(100, 150), CodeState::Expired);
    failed.replaces = Some(1);
    let old = code(1, "a", w(100, 200), CodeState::Active);
    let d = diff(
        &g,
        &[old.clone(), failed.clone()],
        offline,
        Timestamp(151 * H),
    );
    assert_eq!(d.actions, [Action::Unrevocable { code: 1 }]);
    assert_eq!(
        diff(&g, &[old, failed], online, Timestamp(151 * H)).actions,
        [Action::Revoke { code: 1 }]
    );
}

#[test]
fn a_code_whose_window_ran_out_moves_to_the_next_window_instead_of_expiring() {
    // A recurring staff code: yesterday's window ended at hour 14; today's is 34–38.
    let g = [grant("a", w(34, 38), 14)];
    let codes = [code(1, "a", w(10, 14), CodeState::Active)];
    assert_eq!(
        diff(&g, &codes, online, Timestamp(14 * H)).actions,
        [Action::Update {
            code: 1,
            window: w(34, 38)
        }],
        "moved, not expired"
    );
    let replaced = diff(&g, &codes, offline, Timestamp(14 * H)).actions;
    assert!(
        replaced.contains(&Action::Expire {
            code: 1,
            cleanup: false
        }),
        "a lock that cannot move it lets it expire beside its replacement: {replaced:?}"
    );
}

use std::time::Duration;

use super::*;
use crate::rules::{EventType, RuleEvent, evaluate};
use crate::{
    Branch, BranchId, Capabilities, Connectivity, DoorKind, Guest, Lock, LockId, PinRules,
    Property, PropertyId, Reservation, ReservationId, ReservationStatus, Resource, ResourceId,
    ResourceKind, WindowPrecision,
};

const DEFAULT_RULE: &str = include_str!("../../../../rules/default.rhai");

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("valid instant")
}

fn lock(id: &str, door: DoorKind, resources: &[&str], branch: Option<&str>) -> Lock {
    Lock {
        id: LockId::parse(id).expect("id"),
        name: id.into(),
        provider: "simulator".into(),
        device: None,
        door,
        branch: branch.map(|b| BranchId::parse(b).expect("id")),
        resources: resources
            .iter()
            .map(|r| ResourceId::parse(*r).expect("id"))
            .collect(),
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
                forbidden_prefixes: vec![],
            },
        },
        overflow: None,
    }
}

fn input(status: ReservationStatus, check_in: &str, check_out: &str) -> RuleInput {
    let _ = Branch {
        id: BranchId::parse("main").expect("id"),
        name: "Main".into(),
    };
    RuleInput {
        event: RuleEvent {
            kind: EventType::Confirmed,
            received_at: ts("2016-03-01T10:00:00Z"),
        },
        reservation: Reservation {
            id: ReservationId::parse("R-1").expect("id"),
            status,
            resources: vec![ResourceId::parse("101").expect("id")],
            check_in: ts(check_in),
            check_out: ts(check_out),
            checked_out_at: None,
            guest: Guest::default(),
            version: 1,
        },
        property: Property {
            id: PropertyId::parse("resort").expect("id"),
            name: "Resort".into(),
            timezone: time::parse_tz("Europe/Lisbon").expect("tz"),
            check_in_time: "15:00".parse().expect("time"),
            check_out_time: "11:00".parse().expect("time"),
            day_use_start: "09:00".parse().expect("time"),
            day_use_end: "18:00".parse().expect("time"),
            requires_payment: false,
        },
        resources: vec![Resource {
            id: ResourceId::parse("101").expect("id"),
            kind: ResourceKind::Room,
            branch: BranchId::parse("main").expect("id"),
            name: "Room 101".into(),
        }],
        locks: vec![
            lock("room-101", DoorKind::Private, &["101"], Some("main")),
            lock("room-102", DoorKind::Private, &["102"], Some("main")),
            lock("main-entrance", DoorKind::Shared, &[], Some("main")),
            lock("storeroom", DoorKind::Shared, &[], None),
        ],
        now: ts("2016-03-01T10:00:00Z"),
    }
}

fn default_rule() -> RhaiRule {
    RhaiRule::compile(DEFAULT_RULE, RuleLimits::default()).expect("default rule compiles")
}

fn run(rule: &RhaiRule, input: &RuleInput) -> Result<Plan, RuleError> {
    evaluate(rule, input, &RuleLimits::default())
}

#[test]
fn default_rule_opens_room_and_shared_doors_around_local_times() {
    let plan = run(
        &default_rule(),
        &input(
            ReservationStatus::Confirmed,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
    )
    .expect("plan");
    let locks: Vec<_> = plan.grants.iter().map(|g| g.lock.as_str()).collect();
    assert_eq!(
        locks,
        ["room-101", "main-entrance"],
        "own room and assigned shared door only"
    );
    let g = &plan.grants[0];
    assert_eq!(g.starts_at, ts("2016-03-20T14:00:00Z"));
    assert_eq!(g.ends_at, ts("2016-03-23T11:15:00Z"));
    assert_eq!(g.issue_at, Some(ts("2016-03-17T14:00:00Z")));
}

#[test]
fn default_rule_window_crosses_spring_forward() {
    // Check-in 26 March (WET, UTC+0), check-out 28 March (WEST, UTC+1).
    let plan = run(
        &default_rule(),
        &input(
            ReservationStatus::Paid,
            "2016-03-26T15:00:00Z",
            "2016-03-28T10:00:00Z",
        ),
    )
    .expect("plan");
    assert_eq!(plan.grants[0].starts_at, ts("2016-03-26T14:00:00Z"));
    assert_eq!(
        plan.grants[0].ends_at,
        ts("2016-03-28T10:15:00Z"),
        "11:00 WEST is 10:00 UTC"
    );
}

#[test]
fn default_rule_window_crosses_fall_back() {
    let plan = run(
        &default_rule(),
        &input(
            ReservationStatus::Paid,
            "2016-10-29T14:00:00Z",
            "2016-10-31T11:00:00Z",
        ),
    )
    .expect("plan");
    assert_eq!(
        plan.grants[0].starts_at,
        ts("2016-10-29T13:00:00Z"),
        "15:00 WEST is 14:00 UTC"
    );
    assert_eq!(
        plan.grants[0].ends_at,
        ts("2016-10-31T11:15:00Z"),
        "11:00 WET is 11:00 UTC"
    );
}

#[test]
fn default_rule_day_use_uses_day_use_hours() {
    let plan = run(
        &default_rule(),
        &input(
            ReservationStatus::Confirmed,
            "2016-07-01T08:00:00Z",
            "2016-07-01T17:00:00Z",
        ),
    )
    .expect("plan");
    // 09:00 and 18:00 WEST are 08:00 and 17:00 UTC.
    assert_eq!(plan.grants[0].starts_at, ts("2016-07-01T07:00:00Z"));
    assert_eq!(plan.grants[0].ends_at, ts("2016-07-01T17:15:00Z"));
}

#[test]
fn default_rule_denies_cancelled_no_show_and_unpaid_when_payment_required() {
    let rule = default_rule();
    for status in [ReservationStatus::Cancelled, ReservationStatus::NoShow] {
        let plan = run(
            &rule,
            &input(status, "2016-03-20T15:00:00Z", "2016-03-23T11:00:00Z"),
        )
        .expect("plan");
        assert!(plan.grants.is_empty(), "{status:?} must give no access");
    }
    let mut unpaid = input(
        ReservationStatus::Confirmed,
        "2016-03-20T15:00:00Z",
        "2016-03-23T11:00:00Z",
    );
    unpaid.property.requires_payment = true;
    assert!(run(&rule, &unpaid).expect("plan").grants.is_empty());
    unpaid.reservation.status = ReservationStatus::Paid;
    assert_eq!(run(&rule, &unpaid).expect("plan").grants.len(), 2);
}

#[test]
fn default_rule_check_out_ends_window_fifteen_minutes_after() {
    let mut i = input(
        ReservationStatus::CheckedOut,
        "2016-03-20T15:00:00Z",
        "2016-03-23T11:00:00Z",
    );
    i.reservation.checked_out_at = Some(ts("2016-03-23T08:30:00Z"));
    let plan = run(&default_rule(), &i).expect("plan");
    assert_eq!(plan.grants[0].ends_at, ts("2016-03-23T08:45:00Z"));
}

#[test]
fn compile_errors_name_the_position() {
    let err = RhaiRule::compile("fn plan(input) { let x = ; }", RuleLimits::default())
        .expect_err("must be refused");
    assert!(
        matches!(&err, RuleError::Compile(m) if m.contains("line 1")),
        "{err}"
    );
    let err =
        RhaiRule::compile("fn other(x) { x }", RuleLimits::default()).expect_err("must be refused");
    assert!(err.to_string().contains("fn plan(input)"), "{err}");
}

#[test]
fn endless_loop_hits_the_operation_limit() {
    let rule =
        RhaiRule::compile("fn plan(input) { loop {} }", RuleLimits::default()).expect("compiles");
    let err = run(
        &rule,
        &input(
            ReservationStatus::Paid,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
    )
    .expect_err("must be refused");
    assert!(
        matches!(
            err,
            RuleError::Limit {
                limit: "operations",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn slow_loop_hits_the_deadline() {
    let limits = RuleLimits {
        max_operations: 0,
        deadline: Duration::from_millis(20),
        ..RuleLimits::default()
    };
    let rule = RhaiRule::compile("fn plan(input) { loop {} }", limits.clone()).expect("compiles");
    let err = evaluate(
        &rule,
        &input(
            ReservationStatus::Paid,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
        &limits,
    )
    .expect_err("must be refused");
    assert!(
        matches!(err, RuleError::Limit { limit: "time", .. }),
        "{err}"
    );
}

#[test]
fn deep_recursion_hits_the_call_depth_limit() {
    let rule = RhaiRule::compile(
        "fn f(n) { f(n + 1) } fn plan(input) { f(0) }",
        RuleLimits::default(),
    )
    .expect("compiles");
    let err = run(
        &rule,
        &input(
            ReservationStatus::Paid,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
    )
    .expect_err("must be refused");
    assert!(
        matches!(
            err,
            RuleError::Limit {
                limit: "call depth",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_string_hits_the_size_limit() {
    let rule = RhaiRule::compile(
        r#"fn plan(input) { let s = "x"; loop { s += s; } }"#,
        RuleLimits::default(),
    )
    .expect("compiles");
    let err = run(
        &rule,
        &input(
            ReservationStatus::Paid,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
    )
    .expect_err("must be refused");
    assert!(
        matches!(
            err,
            RuleError::Limit {
                limit: "data size",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn eval_and_imports_are_unavailable() {
    let err =
        RhaiRule::compile(r#"fn plan(input) { eval("1") }"#, RuleLimits::default()).map(|r| {
            run(
                &r,
                &input(
                    ReservationStatus::Paid,
                    "2016-03-20T15:00:00Z",
                    "2016-03-23T11:00:00Z",
                ),
            )
        });
    assert!(!matches!(err, Ok(Ok(_))), "eval must not run");
    let rule = RhaiRule::compile(
        r#"import "/etc/passwd" as p; fn plan(input) { #{ grants: [] } }"#,
        RuleLimits::default(),
    );
    let outcome = rule.map(|r| {
        run(
            &r,
            &input(
                ReservationStatus::Paid,
                "2016-03-20T15:00:00Z",
                "2016-03-23T11:00:00Z",
            ),
        )
    });
    assert!(!matches!(outcome, Ok(Ok(_))), "imports must fail");
}

#[test]
fn invalid_plans_are_rejected_with_the_reason() {
    let i = input(
        ReservationStatus::Paid,
        "2016-03-20T15:00:00Z",
        "2016-03-23T11:00:00Z",
    );
    let cases = [
        (r#"fn plan(input) { 42 }"#, "expected"),
        (
            r#"fn plan(input) { #{ grants: [#{ lock: "nope", starts_at: 1, ends_at: 2 }] } }"#,
            "not among",
        ),
        (
            r#"fn plan(input) { #{ grants: [#{ lock: "room-101", starts_at: 5, ends_at: 5 }] } }"#,
            "empty window",
        ),
        (
            r#"fn plan(input) { #{ grants: [#{ lock: "room-101", starts_at: 5, ends_at: 9, issue_at: 6 }] } }"#,
            "locked out",
        ),
        (
            r#"fn plan(input) { #{ grants: [#{ lock: "room-101", starts_at: 5, ends_at: 9, color: 1 }] } }"#,
            "color",
        ),
    ];
    for (src, needle) in cases {
        let rule = RhaiRule::compile(src, RuleLimits::default()).expect("compiles");
        let err = run(&rule, &i).expect_err("must be refused");
        assert!(matches!(err, RuleError::InvalidPlan(_)), "{src}: {err}");
        assert!(err.to_string().contains(needle), "{src}: {err}");
    }
}

#[test]
fn runtime_errors_carry_the_script_message() {
    let rule = RhaiRule::compile(
        r#"fn plan(input) { throw "no room map for " + input.reservation.id; }"#,
        RuleLimits::default(),
    )
    .expect("compiles");
    let err = run(
        &rule,
        &input(
            ReservationStatus::Paid,
            "2016-03-20T15:00:00Z",
            "2016-03-23T11:00:00Z",
        ),
    )
    .expect_err("must be refused");
    assert!(
        matches!(&err, RuleError::Runtime(m) if m.contains("no room map for R-1")),
        "{err}"
    );
}

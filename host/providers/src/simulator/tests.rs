use latchkey_engine::clock::SimClock;

use super::*;

// Hour-aligned, so minute and hour rounding leave test windows unchanged.
const T0: i64 = 1_460_001_600;

fn setup(profile: SimProfile) -> (Simulator, SimClock) {
    let clock = SimClock::new(Timestamp(T0));
    let sim = Simulator::new(Arc::new(clock.clone()), 7);
    sim.add_lock("door", profile);
    (sim, clock)
}

fn request(marker: &str, pin: Option<&str>, from: i64, to: i64) -> CodeRequest {
    CodeRequest {
        marker: marker.into(),
        pin: pin.map(Pin::new),
        window: Window {
            starts_at: Timestamp(T0 + from),
            ends_at: Timestamp(T0 + to),
        },
    }
}

#[tokio::test]
async fn online_code_opens_only_inside_its_window_and_until_revoked() {
    let (sim, clock) = setup(SimProfile::Online);
    let r = sim
        .create_code("door", &request("c1", Some("345678"), 600, 3600))
        .await
        .expect("created");
    assert_eq!(r.status, ReceiptStatus::Active);
    assert!(!sim.opens("door", "345678", Timestamp(T0 + 599)));
    assert!(sim.opens("door", "345678", Timestamp(T0 + 600)));
    assert!(
        !sim.opens("door", "345678", Timestamp(T0 + 3600)),
        "window end is exclusive"
    );
    clock.advance_to(Timestamp(T0 + 1200));
    sim.revoke_code("door", &r.reference)
        .await
        .expect("revoked");
    assert!(
        sim.opens("door", "345678", Timestamp(T0 + 1199)),
        "history keeps the past"
    );
    assert!(!sim.opens("door", "345678", Timestamp(T0 + 1200)));
}

#[tokio::test]
async fn online_lock_refuses_a_pin_in_use_and_invalid_pins() {
    let (sim, _) = setup(SimProfile::Online);
    sim.create_code("door", &request("a", Some("345678"), 0, 60))
        .await
        .expect("created");
    assert_eq!(
        sim.create_code("door", &request("b", Some("345678"), 0, 60))
            .await,
        Err(ProviderError::PinConflict)
    );
    assert!(matches!(
        sim.create_code("door", &request("c", Some("123456"), 0, 60))
            .await,
        Err(ProviderError::Rejected(_))
    ));
}

#[tokio::test]
async fn a_full_lock_refuses_the_next_code_until_one_leaves() {
    let (sim, clock) = setup(SimProfile::Online);
    sim.set_max_codes("door", 2);
    assert_eq!(
        sim.capabilities("door").map(|c| c.max_codes),
        Some(2),
        "the capacity is declared"
    );
    sim.create_code("door", &request("a", Some("345678"), 0, 600))
        .await
        .expect("first");
    let second = sim
        .create_code("door", &request("b", Some("456789"), 0, 3600))
        .await
        .expect("second");
    let full = sim
        .create_code("door", &request("c", Some("567893"), 0, 3600))
        .await;
    assert!(
        matches!(&full, Err(ProviderError::Rejected(why)) if why.contains("maximum of 2")),
        "{full:?}"
    );
    // A code whose window is over still takes its slot, as on a real keypad, until it is
    // deleted; a revoked code leaves at once.
    clock.advance_to(Timestamp(T0 + 600));
    assert!(
        sim.create_code("door", &request("c", Some("567893"), 600, 3600))
            .await
            .is_err(),
        "an expired code is still held"
    );
    sim.revoke_code("door", &second.reference)
        .await
        .expect("revoked");
    sim.create_code("door", &request("c", Some("567893"), 600, 3600))
        .await
        .expect("room after the revocation");
}

#[tokio::test]
async fn offline_lock_generates_pins_rounds_to_hours_and_cannot_revoke() {
    let (sim, _) = setup(SimProfile::Offline);
    let r = sim
        .create_code("door", &request("c1", Some("345678"), 1800, 5400))
        .await
        .expect("created");
    assert_eq!(r.window.starts_at.unix() % 3600, 0);
    assert_eq!(r.window.ends_at.unix() % 3600, 0);
    assert!(r.window.starts_at.unix() <= T0 + 1800 && r.window.ends_at.unix() >= T0 + 5400);
    assert_eq!(
        sim.revoke_code("door", &r.reference).await,
        Err(ProviderError::Unsupported("this lock cannot delete a code"))
    );
}

#[tokio::test]
async fn slow_lock_confirms_after_its_delay() {
    let (sim, clock) = setup(SimProfile::Slow);
    let r = sim
        .create_code("door", &request("c1", Some("345678"), 0, 7200))
        .await
        .expect("created");
    assert_eq!(r.status, ReceiptStatus::Pending);
    assert!(!sim.opens("door", "345678", Timestamp(T0 + 10)));
    clock.advance_by(SLOW_DELAY_SECS);
    let back = sim
        .read_code("door", &r.reference)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(back.status, ReceiptStatus::Active);
    assert!(sim.opens("door", "345678", Timestamp(T0 + SLOW_DELAY_SECS)));
}

#[tokio::test]
async fn update_records_a_new_segment() {
    let (sim, clock) = setup(SimProfile::Online);
    let r = sim
        .create_code("door", &request("c1", Some("345678"), 0, 3600))
        .await
        .expect("created");
    clock.advance_by(100);
    sim.update_code("door", &r.reference, &request("c1", None, 0, 1800))
        .await
        .expect("updated");
    let h = sim.history("door");
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].present_until, Some(Timestamp(T0 + 100)));
    assert_eq!(h[1].window.ends_at, Timestamp(T0 + 1800));
    assert!(!sim.opens("door", "345678", Timestamp(T0 + 2000)));
}

#[tokio::test]
async fn timeout_loses_the_answer_but_not_the_code() {
    let (sim, _) = setup(SimProfile::Online);
    sim.set_faults(SimFaults {
        error_rate: 0.0,
        timeout_rate: 1.0,
    });
    assert_eq!(
        sim.create_code("door", &request("c1", Some("345678"), 0, 60))
            .await,
        Err(ProviderError::Timeout)
    );
    sim.set_faults(SimFaults::default());
    let found = sim
        .find_code("door", "c1")
        .await
        .expect("call")
        .expect("the code was created");
    assert_eq!(found.pin.as_str(), "345678");
}

#[tokio::test]
async fn outage_refuses_calls_without_effect() {
    let (sim, _) = setup(SimProfile::Online);
    sim.add_outage(
        "door",
        Window {
            starts_at: Timestamp(T0 - 10),
            ends_at: Timestamp(T0 + 10),
        },
    );
    let err = sim
        .create_code("door", &request("c1", Some("345678"), 0, 60))
        .await
        .expect_err("must be refused");
    assert!(err.is_retryable());
    assert!(sim.history("door").is_empty());
}

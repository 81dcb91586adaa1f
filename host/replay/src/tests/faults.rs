use std::collections::HashMap;

use latchkey_engine::{LockId, Timestamp};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::fixtures::*;
use crate::faults::{
    Delivery, DeliveryKind, FaultSpec, FaultSpecError, apply_delivery_faults, outages,
};
use crate::inventory::build_inventory;
use crate::timeline::{PlannedWebhook, timeline};

fn webhooks() -> Vec<PlannedWebhook> {
    let p = lisbon();
    let bookings: Vec<_> = (1..=40)
        .map(|row| {
            let mut b = booking(row, "2016-07-01", (row % 4) as u32);
            b.booking_changes = (row % 3) as u32;
            b
        })
        .collect();
    let inv = build_inventory(&bookings, &p).expect("inventory");
    timeline(&bookings, &inv, &p).expect("timeline")
}

#[test]
fn parses_default_none_and_custom_specs() {
    assert_eq!(
        "default".parse::<FaultSpec>().expect("default"),
        FaultSpec::default_mix()
    );
    assert!("none".parse::<FaultSpec>().expect("none").is_none());
    assert!("".parse::<FaultSpec>().expect("empty").is_none());
    let s: FaultSpec = "duplicate=0.05, reorder=0.1,restart-every=500,outage-max=30,tamper=0.02"
        .parse()
        .expect("custom");
    assert_eq!(
        (
            s.duplicate,
            s.reorder,
            s.restart_every,
            s.outage_max_minutes,
            s.tamper
        ),
        (0.05, 0.1, 500, 30, 0.02)
    );
    assert_eq!(s.lost_ack, 0.0, "unnamed faults stay off");
    let s: FaultSpec = "default,reorder=0.5".parse().expect("default plus");
    assert_eq!((s.reorder, s.duplicate), (0.5, 0.05));
    let d = FaultSpec::default_mix();
    assert_eq!(
        (
            d.lost_ack,
            d.provider_error,
            d.provider_timeout,
            d.outage,
            d.tamper
        ),
        (0.02, 0.02, 0.01, 0.02, 0.01)
    );
}

#[test]
fn spec_errors_name_the_bad_key_or_value() {
    let e = "duplicate=0.1,jitter=0.2"
        .parse::<FaultSpec>()
        .expect_err("unknown key");
    assert_eq!(e, FaultSpecError::UnknownKey("jitter".into()));
    let e = "reorder=1.5".parse::<FaultSpec>().expect_err("above 1");
    assert!(e.to_string().contains("reorder=1.5"), "{e}");
    let e = "lost-ack=NaN".parse::<FaultSpec>().expect_err("NaN");
    assert!(e.to_string().contains("lost-ack"), "{e}");
    let e = "restart-every=-1"
        .parse::<FaultSpec>()
        .expect_err("negative");
    assert!(e.to_string().contains("restart-every"), "{e}");
    let e = "outage-max=0"
        .parse::<FaultSpec>()
        .expect_err("zero minutes");
    assert!(e.to_string().contains("outage-max"), "{e}");
    assert!(matches!(
        "duplicate".parse::<FaultSpec>(),
        Err(FaultSpecError::Syntax(_))
    ));
}

fn ids(d: &[Delivery]) -> Vec<(Timestamp, String, DeliveryKind)> {
    d.iter()
        .map(|d| (d.deliver_at, d.webhook.webhook_id.clone(), d.kind))
        .collect()
}

#[test]
fn no_faults_delivers_each_webhook_once_when_sent() {
    let hooks = webhooks();
    let d = apply_delivery_faults(
        hooks.clone(),
        &FaultSpec::none(),
        &mut StdRng::seed_from_u64(1),
    );
    assert_eq!(d.len(), hooks.len());
    assert!(d.iter().zip(&hooks).all(|(d, h)| d.deliver_at == h.send_at
        && *d.webhook == *h
        && d.kind == DeliveryKind::First));
}

#[test]
fn same_seed_same_deliveries() {
    let spec = FaultSpec::default_mix();
    let a = apply_delivery_faults(webhooks(), &spec, &mut StdRng::seed_from_u64(42));
    let b = apply_delivery_faults(webhooks(), &spec, &mut StdRng::seed_from_u64(42));
    assert_eq!(ids(&a), ids(&b));
    assert!(a.windows(2).all(|w| w[0].deliver_at <= w[1].deliver_at));
}

#[test]
fn duplicates_and_redeliveries_repeat_the_webhook_id() {
    let hooks = webhooks();
    let spec: FaultSpec = "duplicate=1,lost-ack=1".parse().expect("spec");
    let d = apply_delivery_faults(hooks.clone(), &spec, &mut StdRng::seed_from_u64(3));
    assert_eq!(d.len(), 3 * hooks.len());
    let first: HashMap<&str, Timestamp> = d
        .iter()
        .filter(|d| d.kind == DeliveryKind::First)
        .map(|d| (d.webhook.webhook_id.as_str(), d.deliver_at))
        .collect();
    for x in &d {
        let gap = x.deliver_at.unix() - first[x.webhook.webhook_id.as_str()].unix();
        match x.kind {
            DeliveryKind::First => assert_eq!(gap, 0),
            DeliveryKind::Duplicate => assert!((0..=120).contains(&gap)),
            DeliveryKind::Redelivery => assert!((60..=600).contains(&gap)),
        }
    }
}

#[test]
fn reordering_delivers_an_older_version_after_a_newer_one() {
    let hooks = webhooks();
    let spec: FaultSpec = "reorder=1".parse().expect("spec");
    let d = apply_delivery_faults(hooks.clone(), &spec, &mut StdRng::seed_from_u64(5));
    assert_eq!(d.len(), hooks.len());
    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    for x in &d {
        seen.entry(x.webhook.reservation.id.to_string())
            .or_default()
            .push(x.webhook.reservation.version);
    }
    // With every webhook held back, each reservation arrives newest first.
    for versions in seen.values() {
        assert!(versions.windows(2).all(|w| w[0] > w[1]), "{versions:?}");
    }
}

#[test]
fn outages_are_bounded_reproducible_and_inside_the_span() {
    let locks: Vec<LockId> = ["room-A01", "main-entrance"]
        .iter()
        .map(|l| LockId::parse(*l).expect("id"))
        .collect();
    let (start, end) = (ts("2016-01-01T00:00:00Z"), ts("2017-01-01T00:00:00Z"));
    let spec: FaultSpec = "outage=0.5,outage-max=45".parse().expect("spec");
    let a = outages(&locks, start, end, &spec, &mut StdRng::seed_from_u64(9));
    let b = outages(&locks, start, end, &spec, &mut StdRng::seed_from_u64(9));
    assert_eq!(a, b);
    assert!(
        a.len() > 200 && a.len() < 530,
        "about half of 2 × 366 days: {}",
        a.len()
    );
    for w in &a {
        let len = w.until.unix() - w.from.unix();
        assert!((60..=45 * 60).contains(&len));
        assert!(w.from >= start && w.from < end);
    }
    assert!(
        outages(
            &locks,
            start,
            end,
            &FaultSpec::none(),
            &mut StdRng::seed_from_u64(9)
        )
        .is_empty()
    );
}

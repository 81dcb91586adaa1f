//! reenio's admin API client against the contract fake, and the resort replayed through
//! reenio (`latchkey replay --source reenio`).

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_engine::clock::SimClock;
use latchkey_providers::ProviderError;
use latchkey_providers::credentials::Secret;
use latchkey_sim::reenio::ReenioFake;
use latchkey_sources::reenio::client::{ClientSettings, ReenioClient};

use crate::harness::at;
use crate::reenio::{API_KEY, RESERVATION, put_stay};

async fn client_of(fake: &ReenioFake, key: &str) -> ReenioClient {
    let base_url = fake.serve_loopback().await.expect("served");
    let mut settings = ClientSettings::production(&base_url, Secret::new(key));
    settings.requests_per_minute = None;
    ReenioClient::new(&settings).expect("client")
}

#[tokio::test]
async fn the_client_reads_details_and_maps_reenios_refusals() {
    let clock = SimClock::new(at("2026-11-22T10:00:10Z"));
    let fake = ReenioFake::new(API_KEY, Arc::new(clock.clone()));
    let client = client_of(&fake, API_KEY).await;
    put_stay(&fake, 1, false);

    let detail = client
        .reservation(RESERVATION)
        .await
        .expect("answer")
        .expect("found");
    assert_eq!(
        (detail.state, detail.is_paid, detail.place_id),
        (1, false, Some(1))
    );
    assert_eq!(detail.start, at("2026-11-23T15:00:00Z"));
    let customer = client.customer(31).await.expect("answer").expect("found");
    assert_eq!(customer.email.as_deref(), Some("ana@example.com"));
    assert_eq!(
        client.reservation(1).await.expect("answer"),
        None,
        "404 is no reservation"
    );

    let intruder = client_of(&fake, "stolen-key").await;
    assert!(matches!(
        intruder.reservation(RESERVATION).await,
        Err(ProviderError::Rejected(_))
    ));

    fake.faults()
        .fail_next(1, StatusCode::SERVICE_UNAVAILABLE, Some(12));
    assert_eq!(
        client.customer(31).await,
        Err(ProviderError::RateLimited(12))
    );
    fake.faults()
        .fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, None);
    assert!(matches!(
        client.customer(31).await,
        Err(ProviderError::Unavailable(_))
    ));

    // reenio's own budget (200 a minute, here 3), on the fake's clock, 10 s into a minute.
    clock.advance_to(at("2026-11-22T10:01:10Z"));
    fake.set_limit(Some(3));
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(client.customer(31).await.map(|c| c.is_some()));
    }
    assert_eq!(
        answers,
        [
            Ok(true),
            Ok(true),
            Ok(true),
            Err(ProviderError::RateLimited(50))
        ],
        "429 with Retry-After to the end of the minute"
    );
    clock.advance_to(at("2026-11-22T10:02:00Z"));
    assert_eq!(
        client.customer(31).await.map(|c| c.is_some()),
        Ok(true),
        "a new minute, a new budget"
    );
}

#[test]
fn resort_bookings_replay_through_reenio_with_no_violations() {
    use latchkey_replay::driver::{self, ReplayOptions};
    use latchkey_replay::reenio::ReplaySource;

    let bookings = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/hotel_bookings_resort.csv");
    let report = driver::run_blocking(ReplayOptions {
        bookings,
        property: crate::harness::hotel_dir(),
        rules: None,
        compare_with: None,
        faults: latchkey_replay::faults::FaultSpec::none(),
        seed: 1,
        database: None,
        replicas: 1,
        progress: false,
        providers: Default::default(),
        source: ReplaySource::Reenio,
        shared_door_capacity: None,
    })
    .expect("replay runs");
    // `.ci/run` prints this report's figures beside the other replays'.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay-reenio.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&report).expect("report serializes"),
    )
    .expect("write the report");
    let c = &report.counts;
    assert!(c.bookings >= 9_999);
    assert_eq!(c.webhooks_rejected, 0);
    assert!(c.codes_created > 0 && c.codes_revoked > 0, "{c:?}");
    assert!(
        c.unannounced_changes > 0,
        "the resort has modifications reenio cannot announce"
    );
    assert!(
        report.violations.is_empty(),
        "{:?}; first: {:?}",
        report.by_kind(),
        report.violations.first()
    );
}

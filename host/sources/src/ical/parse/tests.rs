use latchkey_engine::{ReservationStatus, ResourceId};

use super::*;
use crate::stay_times::tests::lisbon;

/// An Airbnb export as Rental Control meets it (platforms.md §4.1): all-day stays summed
/// up as "Reserved", a block, CRLF line ends and a folded description.
const AIRBNB: &str = "BEGIN:VCALENDAR\r\n\
PRODID;X-RICAL-TZSOURCE=TZINFO:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\n\
CALSCALE:GREGORIAN\r\n\
VERSION:2.0\r\n\
BEGIN:VEVENT\r\n\
DTEND;VALUE=DATE:20260712\r\n\
DTSTART;VALUE=DATE:20260710\r\n\
UID:1418fb94e984-7b2b1d1c4bd3a3a5e7c1e0b3a9d8f6c2@airbnb.com\r\n\
DESCRIPTION:Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMQ4Z2XK8B\\nPhone Number (Last 4 Digits): 4821\r\n\
SUMMARY:Reserved\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTEND;VALUE=DATE:20260720\r\n\
DTSTART;VALUE=DATE:20260715\r\n\
UID:7f3a9c1e2b4d-airbnb-block-0001@airbnb.com\r\n\
SUMMARY:Airbnb (Not available)\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART:20260801T140000Z\r\n\
DTEND:20260803T100000Z\r\n\
UID:guesty-5f2e-44aa\r\n\
DESCRIPTION:Email: maria@example.com\\nGuests: 2\r\n\
SUMMARY:Maria Costa\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART;TZID=America/New_York:20260901T160000\r\n\
DTEND;TZID=America/New_York:20260903T110000\r\n\
UID:weekly-cleaning\r\n\
RRULE:FREQ=WEEKLY\r\n\
SUMMARY:Cleaning\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

fn settings() -> IcalSettings {
    toml::from_str(
        r#"url = "https://www.airbnb.com/calendar/ical/51234567.ics?s=0123456789abcdef"
           resource = "101""#,
    )
    .expect("settings")
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("instant")
}

fn stays(text: &str) -> Vec<FeedStay> {
    match parse(text, "airbnb", &settings(), &lisbon()) {
        Fetched::Stays(s) => s,
        other => panic!("expected stays, got {other:?}"),
    }
}

#[test]
fn all_day_stays_take_the_property_times_and_blocks_are_left_out() {
    let s = stays(AIRBNB);
    assert_eq!(
        s.len(),
        2,
        "the block and the repeating event are not stays: {s:?}"
    );
    let airbnb = &s[0];
    assert_eq!(
        airbnb.uid,
        "1418fb94e984-7b2b1d1c4bd3a3a5e7c1e0b3a9d8f6c2@airbnb.com"
    );
    assert_eq!(
        airbnb.state.id.as_str(),
        "airbnb:1418fb94e984-7b2b1d1c4bd3a3a5e7c1e0b3a9d8f6c2@airbnb.com"
    );
    // Lisbon summer time is UTC+1: 15:00 on arrival day, 11:00 on the DTEND day.
    assert_eq!(airbnb.state.check_in, at("2026-07-10T14:00:00Z"));
    assert_eq!(airbnb.state.check_out, at("2026-07-12T10:00:00Z"));
    assert_eq!(airbnb.state.status, ReservationStatus::Paid);
    assert_eq!(
        airbnb.state.resources,
        vec![ResourceId::parse("101").expect("id")]
    );
    let timed = &s[1];
    assert_eq!(
        timed.state.check_in,
        at("2026-08-01T14:00:00Z"),
        "explicit times are kept"
    );
    assert_eq!(
        timed.state.guest.email.as_deref(),
        Some("maria@example.com")
    );
}

#[test]
fn a_zone_named_by_tzid_is_honoured() {
    let text = AIRBNB.replace("RRULE:FREQ=WEEKLY\r\n", "");
    let s = stays(&text);
    let ny = s
        .iter()
        .find(|s| s.uid == "weekly-cleaning")
        .expect("listed");
    assert_eq!(ny.state.check_in, at("2026-09-01T20:00:00Z"));
}

#[test]
fn empty_calendars_blocks_only_and_garbage_are_told_apart() {
    let empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN\r\nEND:VCALENDAR\r\n";
    assert_eq!(parse(empty, "a", &settings(), &lisbon()), Fetched::Empty);
    let blocks_only = AIRBNB
        .split("BEGIN:VEVENT")
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i == 2)
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join("BEGIN:VEVENT");
    let blocks_only = format!(
        "{}END:VCALENDAR\r\n",
        blocks_only.trim_end_matches("END:VCALENDAR\r\n")
    );
    assert_eq!(
        parse(&blocks_only, "a", &settings(), &lisbon()),
        Fetched::Empty
    );
    assert!(matches!(
        parse(
            "<html><body>Service Unavailable</body></html>",
            "a",
            &settings(),
            &lisbon()
        ),
        Fetched::Failed(_)
    ));
}

#[test]
fn long_uids_get_a_digest_id_and_urls_are_redacted() {
    let long = "x".repeat(200);
    let id = reservation_id("feed", &long).expect("an id");
    assert!(
        id.as_str().starts_with("feed:") && id.as_str().len() < 64,
        "{id}"
    );
    assert_eq!(reservation_id("feed", &long), Some(id), "stable");
    assert_eq!(
        settings().redacted_url(),
        "https://www.airbnb.com/calendar/ical/51234567.ics"
    );
    assert!(!format!("{:?}", settings()).contains("0123456789abcdef"));
}

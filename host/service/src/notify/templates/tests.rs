use latchkey_engine::{LockId, Timestamp, Window};

use super::*;

fn door(offline: bool) -> Door {
    Door {
        lock: LockId::parse("room-101").expect("lock id"),
        name: "Room 101".into(),
        pin: "583941".into(),
        // 2026-11-24 14:00 to 2026-11-26 11:15, Lisbon (UTC+0 in winter).
        window: Window {
            starts_at: Timestamp(1_795_528_800),
            ends_at: Timestamp(1_795_691_700),
        },
        offline,
        instructions: Some("Press ✓ after the code.".into()),
    }
}

fn subject(kind: NoticeKind, doors: &[Door]) -> Subject<'_> {
    Subject {
        kind,
        guest_name: "Ana Silva",
        property: "Resort Hotel",
        timezone: chrono_tz::Europe::Lisbon,
        doors,
        page_url: None,
    }
}

#[test]
fn every_shipped_locale_links_the_guest_page_when_there_is_one() {
    let t = Templates::load(None, "en").expect("built-ins load");
    let doors = [door(false)];
    let url = "https://resort.example/g/abc.1796000000.xyz";
    for locale in BUILT_IN_LOCALES {
        let with = Subject {
            page_url: Some(url),
            ..subject(NoticeKind::Issued, &doors)
        };
        let r = t.render(locale, &with).expect("renders");
        assert!(r.email.contains(url), "{locale} e-mail: {}", r.email);
        assert!(r.sms.contains(url), "{locale} SMS: {}", r.sms);
        let without = t
            .render(locale, &subject(NoticeKind::Issued, &doors))
            .expect("renders");
        assert!(
            !without.email.contains("/g/"),
            "{locale}: {}",
            without.email
        );
    }
}

#[test]
fn every_shipped_locale_tells_the_pin_and_the_local_validity() {
    let t = Templates::load(None, "en").expect("built-ins load");
    let doors = [door(false)];
    for locale in BUILT_IN_LOCALES {
        let r = t
            .render(locale, &subject(NoticeKind::Issued, &doors))
            .expect("renders");
        for text in [&r.email, &r.sms] {
            assert!(text.contains("583941"), "{locale}: the PIN is told: {text}");
            assert!(
                text.contains("2026-11-24 14:00"),
                "{locale}: local start: {text}"
            );
            assert!(
                text.contains("2026-11-26 11:15"),
                "{locale}: local end: {text}"
            );
        }
        assert!(
            r.email.contains("Press ✓ after the code."),
            "{locale}: door instructions"
        );
        assert!(
            r.email.contains("Europe/Lisbon"),
            "{locale}: the zone is named"
        );
        assert!(!r.subject.is_empty() && !r.subject.contains('\n'));
    }
}

#[test]
fn offline_pins_carry_the_first_use_rule_in_every_locale() {
    let t = Templates::load(None, "en").expect("built-ins load");
    let online = [door(false)];
    let offline = [door(true)];
    for locale in BUILT_IN_LOCALES {
        let with = t
            .render(locale, &subject(NoticeKind::Issued, &offline))
            .expect("renders");
        let without = t
            .render(locale, &subject(NoticeKind::Issued, &online))
            .expect("renders");
        assert!(with.email.contains("24"), "{locale}: {}", with.email);
        assert!(
            !without.email.contains("24 h"),
            "{locale}: {}",
            without.email
        );
        assert!(
            with.sms.contains("2026-11-25 14:00"),
            "{locale}: use-by in the SMS: {}",
            with.sms
        );
    }
}

#[test]
fn kinds_read_differently_and_revocation_names_the_doors_without_pins() {
    let t = Templates::load(None, "en").expect("built-ins load");
    let doors = [door(false)];
    let issued = t
        .render("en", &subject(NoticeKind::Issued, &doors))
        .expect("renders");
    let changed = t
        .render("en", &subject(NoticeKind::Changed, &doors))
        .expect("renders");
    let revoked = t
        .render("en", &subject(NoticeKind::Revoked, &doors))
        .expect("renders");
    assert_ne!(issued.subject, changed.subject);
    assert!(changed.email.contains("replace"), "{}", changed.email);
    assert!(revoked.email.contains("Room 101"));
    assert!(
        !revoked.email.contains("583941"),
        "a revoked PIN is not repeated"
    );
    assert!(!revoked.sms.contains("583941"));
}

#[test]
fn the_guest_locale_picks_its_language_or_falls_back() {
    let t = Templates::load(None, "pt").expect("built-ins load");
    assert_eq!(t.locale_for(Some("cs-CZ")), "cs");
    assert_eq!(t.locale_for(Some("ES")), "es");
    assert_eq!(t.locale_for(Some("de-DE")), "pt");
    assert_eq!(t.locale_for(None), "pt");
    let doors = [door(false)];
    let cs = t
        .render("cs", &subject(NoticeKind::Issued, &doors))
        .expect("renders");
    assert!(cs.email.contains("Dobrý den"), "{}", cs.email);
}

#[test]
fn a_workspace_overrides_a_template_and_adds_a_locale() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
    std::fs::write(
        dir.path().join("en/sms.j2"),
        "{{ property }} PIN {{ doors[0].pin }}",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("de")).expect("mkdir");
    for name in ["subject", "email", "sms"] {
        std::fs::write(
            dir.path().join(format!("de/{name}.j2")),
            "Ihr Code: {% for d in doors %}{{ d.pin }}{% endfor %}",
        )
        .expect("write");
    }
    let t = Templates::load(Some(dir.path()), "en").expect("overrides load");
    let doors = [door(false)];
    let en = t
        .render("en", &subject(NoticeKind::Issued, &doors))
        .expect("renders");
    assert_eq!(en.sms, "Resort Hotel PIN 583941");
    assert!(
        en.email.contains("Hello Ana Silva"),
        "the other built-ins stay"
    );
    assert_eq!(t.locale_for(Some("de-AT")), "de");
    let de = t
        .render("de", &subject(NoticeKind::Issued, &doors))
        .expect("renders");
    assert_eq!(de.subject, "Ihr Code: 583941");
}

#[test]
fn a_broken_override_is_refused_at_load_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
    std::fs::write(dir.path().join("en/email.j2"), "Hello {{ guest_nmae }}").expect("write");
    let err = Templates::load(Some(dir.path()), "en").expect_err("undefined variable");
    assert!(err.to_string().contains("en/email"), "{err}");
    std::fs::write(dir.path().join("en/email.j2"), "Hello {% if %}").expect("write");
    let err = Templates::load(Some(dir.path()), "en").expect_err("syntax error");
    assert!(err.to_string().contains("en/email"), "{err}");
    let new_locale = dir.path().join("fr");
    std::fs::create_dir_all(&new_locale).expect("mkdir");
    std::fs::write(dir.path().join("en/email.j2"), "Hello").expect("write");
    std::fs::write(new_locale.join("sms.j2"), "Code").expect("write");
    let err = Templates::load(Some(dir.path()), "en").expect_err("a new locale needs all three");
    assert!(err.to_string().contains("subject.j2"), "{err}");
    assert!(
        Templates::load(None, "xx").is_err(),
        "a default locale without templates"
    );
}

#[test]
fn local_time_is_the_property_wall_clock_across_dst() {
    let lisbon: Tz = "Europe/Lisbon".parse().expect("zone");
    // 2026-03-29 01:00 UTC: Lisbon springs forward from 01:00 WET to 02:00 WEST.
    assert_eq!(
        local_time(Timestamp(1_774_745_999), lisbon),
        "2026-03-29 00:59"
    );
    assert_eq!(
        local_time(Timestamp(1_774_746_000), lisbon),
        "2026-03-29 02:00"
    );
    assert_eq!(
        local_time(Timestamp(1_795_532_400), lisbon),
        "2026-11-24 15:00"
    );
}

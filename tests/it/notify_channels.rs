//! Each channel through the whole service: e-mail to a real SMTP server (aiosmtpd, started
//! here), text messages to a contract fake of Twilio's Messages API, and signed callbacks
//! to a platform's receiver, with their failures: retries (Retry-After honoured), a
//! permanent refusal raising an alert, 410 Gone and days of failure disabling the
//! endpoint, and the guard against server-side request forgery.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use latchkey_engine::clock::{Clock, SimClock};
use latchkey_service::catalog::CatalogFile;
use latchkey_service::notify::settings::{CallbackSettings, EmailSettings, SmsSettings};
use latchkey_sim::clouds::serve_loopback;
use latchkey_sim::twilio::TwilioFake;
use serde_json::{Value, json};

use crate::harness::{SMS_AUTH_TOKEN, TestApp, at};

const NOW: &str = "2026-11-22T10:00:00Z";
const CALLBACK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn paid(id: &str, guest: Value) -> Value {
    json!({
        "type": "reservation.paid",
        "data": {
            "id": id, "status": "paid", "resources": ["101"],
            "check_in": "2026-11-23T15:00:00Z", "check_out": "2026-11-25T11:00:00Z",
            "guest": guest, "version": 1
        }
    })
}

/// The rule, asking for `channels`.
fn rule_telling(channels: &str) -> String {
    let rule =
        std::fs::read_to_string(crate::harness::hotel_dir().join("../../rules/default.rhai"))
            .expect("default rule");
    rule.replace(
        r#"const NOTIFY_CHANNELS = ["email", "sms"];"#,
        &format!("const NOTIFY_CHANNELS = {channels};"),
    )
}

async fn spawn(channels: &str, edit: impl FnOnce(&mut CatalogFile)) -> TestApp {
    let rule = rule_telling(channels);
    TestApp::spawn_with(SimClock::new(at(NOW)), Some(&rule), edit, Vec::new()).await
}

async fn wait(h: &TestApp, secs: i64) {
    h.advance_to(h.clock.now().plus(secs)).await;
}

async fn message(h: &TestApp, id: &str, channel: &str) -> Value {
    let view = h.reservation(id).await;
    view["notifications"]
        .as_array()
        .and_then(|n| n.iter().rev().find(|m| m["channel"] == channel).cloned())
        .unwrap_or(Value::Null)
}

async fn alerts(h: &TestApp, kind: &str) -> Vec<Value> {
    let view = h.get("/v1/alerts").await;
    view.body["alerts"]
        .as_array()
        .map(|a| a.iter().filter(|x| x["kind"] == kind).cloned().collect())
        .unwrap_or_default()
}

// ---- e-mail: a real SMTP server ------------------------------------------------------

/// aiosmtpd on a loopback port, writing what it accepts to a directory.
struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start(defer: u32) -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("mail dir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .arg("--defer")
            .arg(defer.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (pip install aiosmtpd)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the SMTP server says it is ready");
        assert_eq!(
            line.trim(),
            "ready",
            "aiosmtpd did not start (pip install aiosmtpd)"
        );
        SmtpServer { child, port, dir }
    }

    fn settings(&self) -> EmailSettings {
        EmailSettings {
            from: "Resort Hotel <frontdesk@resort.example>".into(),
            smtp_url: Some(format!("smtp://127.0.0.1:{}", self.port)),
        }
    }

    /// Every message received: (recipients, raw message).
    fn received(&self) -> Vec<(String, String)> {
        received_in(self.dir.path())
    }
}

fn received_in(dir: &Path) -> Vec<(String, String)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("mail dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|eml| {
            let rcpt = std::fs::read_to_string(eml.with_extension("rcpt")).unwrap_or_default();
            (rcpt, std::fs::read_to_string(&eml).unwrap_or_default())
        })
        .collect()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A header's (unfolded) value in a raw message.
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

#[tokio::test]
async fn email_reaches_a_real_smtp_server_with_the_pin_and_a_stable_message_id() {
    let smtp = SmtpServer::start(1);
    let settings = smtp.settings();
    let h = spawn(r#"["email"]"#, |f| f.notifications.email = Some(settings)).await;
    h.send(&paid(
        "R-1",
        json!({"name": "Jan Novák", "email": "jan@example.cz", "locale": "cs"}),
    ))
    .await;
    h.run_jobs().await;
    assert!(
        smtp.received().is_empty(),
        "the server deferred the first attempt (451)"
    );
    assert_eq!(
        message(&h, "R-1", "email").await["state"],
        "queued",
        "retried later"
    );
    wait(&h, 3600).await;
    let got = smtp.received();
    assert_eq!(got.len(), 1, "delivered once after the retry");
    let (rcpt, raw) = &got[0];
    assert_eq!(rcpt, "jan@example.cz");
    let (pin, _) = h.code_on("R-1", "room-101").await.expect("room code");
    assert!(raw.contains(&pin), "the PIN is in the message: {raw}");
    assert!(raw.contains("Dobr"), "written in Czech: {raw}");
    assert!(header(raw, "From").is_some_and(|f| f.contains("frontdesk@resort.example")));
    let id = header(raw, "Message-ID").expect("a Message-ID");
    let sent = message(&h, "R-1", "email").await;
    assert_eq!(sent["state"], "sent");
    assert_eq!(
        sent["detail"], id,
        "the Message-ID is recorded, stable across retries"
    );
}

#[tokio::test]
async fn a_refused_address_fails_its_message_and_alerts_the_front_desk() {
    let smtp = SmtpServer::start(0);
    let settings = smtp.settings();
    let h = spawn(r#"["email"]"#, |f| f.notifications.email = Some(settings)).await;
    h.send(&paid(
        "R-1",
        json!({"name": "Nobody", "email": "bounce@example.com"}),
    ))
    .await;
    wait(&h, 60).await;
    assert!(smtp.received().is_empty());
    let m = message(&h, "R-1", "email").await;
    assert_eq!(m["state"], "failed");
    assert!(
        m["detail"].as_str().is_some_and(|d| d.contains("550")),
        "{m}"
    );
    let raised = alerts(&h, "notification_failed").await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["reservation_id"], "R-1");
}

// ---- text messages: Twilio's contract ------------------------------------------------

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

async fn twilio() -> (TwilioFake, SmsSettings) {
    let fake = TwilioFake::new(ACCOUNT, SMS_AUTH_TOKEN);
    let base_url = serve_loopback(fake.router())
        .await
        .expect("serve the Twilio fake");
    let settings = SmsSettings {
        base_url,
        account_sid: ACCOUNT.into(),
        from: "+351210000000".into(),
    };
    (fake, settings)
}

#[tokio::test]
async fn a_text_survives_gateway_errors_and_a_restart_and_is_sent_once() {
    let (fake, settings) = twilio().await;
    fake.fail_next(StatusCode::INTERNAL_SERVER_ERROR, None);
    fake.fail_next(StatusCode::TOO_MANY_REQUESTS, Some(900));
    let h = spawn(r#"["sms"]"#, |f| f.notifications.sms = Some(settings)).await;
    h.send(&paid(
        "R-1",
        json!({"name": "Ana", "phone": "+351912345678"}),
    ))
    .await;
    wait(&h, 60).await;
    assert!(fake.texts().is_empty(), "500 first");
    wait(&h, 120).await;
    assert!(fake.texts().is_empty(), "then 429 with Retry-After: 900");
    let h = h.restart().await;
    wait(&h, 600).await;
    assert!(
        fake.texts().is_empty(),
        "Retry-After is honoured across the restart"
    );
    wait(&h, 600).await;
    let texts = fake.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].to, "+351912345678");
    assert_eq!(texts[0].from, "+351210000000");
    let (pin, _) = h.code_on("R-1", "room-101").await.expect("room code");
    assert!(texts[0].body.contains(&pin), "{}", texts[0].body);
    let m = message(&h, "R-1", "sms").await;
    assert_eq!(m["state"], "sent");
    assert_eq!(m["detail"], texts[0].sid.as_str());
    wait(&h, 86_400).await;
    assert_eq!(fake.texts().len(), 1, "never twice");
}

#[tokio::test]
async fn an_invalid_number_is_refused_for_good_and_an_older_text_never_follows_a_newer() {
    let (fake, settings) = twilio().await;
    let h = spawn(r#"["sms"]"#, |f| f.notifications.sms = Some(settings)).await;
    h.send(&paid("R-1", json!({"name": "Ana", "phone": "912 345 678"})))
        .await;
    wait(&h, 60).await;
    let m = message(&h, "R-1", "sms").await;
    assert_eq!(m["state"], "failed");
    assert!(
        m["detail"].as_str().is_some_and(|d| d.contains("21211")),
        "{m}"
    );
    assert_eq!(alerts(&h, "notification_failed").await.len(), 1);

    // R-2's first text fails; a date change is decided before its retry.
    fake.fail_next(StatusCode::SERVICE_UNAVAILABLE, Some(600));
    h.send(&paid(
        "R-2",
        json!({"name": "Rui", "phone": "+351913000000"}),
    ))
    .await;
    wait(&h, 60).await;
    let mut later = paid("R-2", json!({"name": "Rui", "phone": "+351913000000"}));
    later["type"] = json!("reservation.modified");
    later["data"]["check_out"] = json!("2026-11-26T11:00:00Z");
    later["data"]["version"] = json!(2);
    h.send(&later).await;
    wait(&h, 3600).await;
    let texts: Vec<_> = fake
        .texts()
        .into_iter()
        .filter(|t| t.to == "+351913000000")
        .collect();
    assert_eq!(texts.len(), 1, "only the newer message: {texts:?}");
    assert!(
        texts[0].body.contains("2026-11-26 11:15"),
        "{}",
        texts[0].body
    );
    let view = h.reservation("R-2").await;
    let states: Vec<&str> = view["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(states, ["superseded", "sent"]);
}

// ---- callbacks: Standard Webhooks to the platform ------------------------------------

/// A status to answer with, and its `Retry-After` in seconds.
type Answer = (StatusCode, Option<u64>);

/// A platform endpoint: answers with the statuses queued (then 200) and keeps every
/// request.
#[derive(Clone, Default)]
struct Receiver {
    answers: Arc<Mutex<Vec<Answer>>>,
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    async fn serve(&self) -> String {
        let me = self.clone();
        let router = Router::new().route(
            "/latchkey",
            post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    me.got.lock().expect("lock").push((headers, body));
                    let next = {
                        let mut answers = me.answers.lock().expect("lock");
                        (!answers.is_empty()).then(|| answers.remove(0))
                    };
                    match next {
                        Some((status, Some(after))) => {
                            (status, [("retry-after", after.to_string())]).into_response()
                        }
                        Some((status, None)) => status.into_response(),
                        None => StatusCode::NO_CONTENT.into_response(),
                    }
                }
            }),
        );
        format!(
            "{}/latchkey",
            serve_loopback(router).await.expect("serve the receiver")
        )
    }

    fn answer(&self, status: StatusCode, retry_after: Option<u64>) {
        self.answers
            .lock()
            .expect("lock")
            .push((status, retry_after));
    }

    fn got(&self) -> Vec<(HeaderMap, String)> {
        self.got.lock().expect("lock").clone()
    }
}

fn callback(url: &str, allow_private: bool) -> CallbackSettings {
    CallbackSettings {
        url: url.into(),
        secret: CALLBACK_SECRET.into(),
        allow_private,
    }
}

#[tokio::test]
async fn callbacks_are_signed_events_with_the_pin_retried_after_retry_after() {
    let receiver = Receiver::default();
    let url = receiver.serve().await;
    receiver.answer(StatusCode::SERVICE_UNAVAILABLE, Some(300));
    let settings = callback(&url, true);
    let h = spawn(r#"["callback"]"#, |f| {
        f.notifications.callback = Some(settings)
    })
    .await;
    h.send(&paid("R-1", json!({"name": "Ana"}))).await;
    wait(&h, 60).await;
    assert_eq!(receiver.got().len(), 1, "one attempt, answered 503");
    wait(&h, 200).await;
    assert_eq!(receiver.got().len(), 1, "Retry-After: 300 is honoured");
    wait(&h, 600).await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    let (headers, body) = &got[1];
    assert_eq!(
        got[0].0["webhook-id"], headers["webhook-id"],
        "one id across retries"
    );
    // The platform verifies as any Standard Webhooks receiver does.
    let signed_at: i64 = headers["webhook-timestamp"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("ts");
    assert!(
        (h.clock.now().unix() - signed_at) < 900,
        "signed when sent, not when decided"
    );
    latchkey_sources::signature::verify(
        CALLBACK_SECRET,
        headers,
        body.as_bytes(),
        latchkey_engine::Timestamp(signed_at),
    )
    .expect("a valid Standard Webhooks signature");
    let event: Value = serde_json::from_str(body).expect("JSON body");
    assert_eq!(event["type"], "access_code.issued");
    assert_eq!(event["data"]["reservation_id"], "R-1");
    let (pin, _) = h.code_on("R-1", "room-101").await.expect("room code");
    let room = event["data"]["doors"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["lock"] == "room-101"))
        .expect("the room door");
    assert_eq!(room["pin"], pin.as_str());
    assert_eq!(room["starts_at"], "2026-11-23T14:00:00Z");
}

#[tokio::test]
async fn gone_disables_the_endpoint_at_once_with_an_alert() {
    let receiver = Receiver::default();
    let url = receiver.serve().await;
    receiver.answer(StatusCode::GONE, None);
    let settings = callback(&url, true);
    let h = spawn(r#"["callback"]"#, |f| {
        f.notifications.callback = Some(settings)
    })
    .await;
    h.send(&paid("R-1", json!({"name": "Ana"}))).await;
    wait(&h, 60).await;
    assert_eq!(message(&h, "R-1", "callback").await["state"], "failed");
    assert_eq!(alerts(&h, "callback_disabled").await.len(), 1);
    h.send(&paid("R-2", json!({"name": "Rui"}))).await;
    wait(&h, 600).await;
    assert_eq!(
        receiver.got().len(),
        1,
        "nothing more is sent to a disabled endpoint"
    );
    let m = message(&h, "R-2", "callback").await;
    assert_eq!(m["state"], "skipped");
    assert!(
        m["detail"].as_str().is_some_and(|d| d.contains("disabled")),
        "{m}"
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled() {
    let receiver = Receiver::default();
    let url = receiver.serve().await;
    for _ in 0..200 {
        receiver.answer(StatusCode::INTERNAL_SERVER_ERROR, None);
    }
    let settings = callback(&url, true);
    let h = spawn(r#"["callback"]"#, |f| {
        f.notifications.callback = Some(settings)
    })
    .await;
    h.send(&paid("R-1", json!({"name": "Ana"}))).await;
    wait(&h, 2 * 86_400).await;
    assert!(
        alerts(&h, "callback_disabled").await.is_empty(),
        "two days is not enough"
    );
    assert_eq!(
        message(&h, "R-1", "callback").await["state"],
        "queued",
        "still retrying"
    );
    // Another guest's message keeps the endpoint failing past five days.
    wait(&h, 2 * 86_400).await;
    let mut later = paid("R-2", json!({"name": "Rui"}));
    later["data"]["check_in"] = json!("2026-11-27T15:00:00Z");
    later["data"]["check_out"] = json!("2026-11-29T11:00:00Z");
    h.send(&later).await;
    wait(&h, 2 * 86_400).await;
    assert_eq!(alerts(&h, "callback_disabled").await.len(), 1);
    let attempts = receiver.got().len();
    wait(&h, 86_400).await;
    assert_eq!(
        receiver.got().len(),
        attempts,
        "no more attempts once disabled"
    );
}

#[tokio::test]
async fn callbacks_to_loopback_are_refused_unless_allowed() {
    let receiver = Receiver::default();
    let url = receiver.serve().await;
    let literal =
        latchkey_service::notify::channels::callback::Callback::new(&callback(&url, false))
            .expect_err("127.0.0.1 is refused when configured");
    assert!(
        literal.to_string().contains("not a public address"),
        "{literal}"
    );

    let by_name = url.replace("127.0.0.1", "localhost");
    let settings = callback(&by_name, false);
    let h = spawn(r#"["callback"]"#, |f| {
        f.notifications.callback = Some(settings)
    })
    .await;
    h.send(&paid("R-1", json!({"name": "Ana"}))).await;
    wait(&h, 60).await;
    let m = message(&h, "R-1", "callback").await;
    assert_eq!(m["state"], "failed");
    assert!(
        m["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not a public address")),
        "{m}"
    );
    assert!(
        receiver.got().is_empty(),
        "nothing reached the loopback receiver"
    );
}

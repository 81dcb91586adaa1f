//! A contract fake of Twilio's Messages API (create a message,
//! <https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>;
//! errors per <https://www.twilio.com/docs/api/errors>): Basic auth with the account SID
//! and auth token (20003 otherwise), the account in the path matching the one
//! authenticated, `To` a valid E.164 number (21604 missing, 21211 invalid), `From` or
//! `MessagingServiceSid` (21603), `Body` of at most 1,600 characters (21602, 21617), and
//! `201` with a message resource whose `sid` is `SM` and 32 hex digits. Injected
//! statuses (with `Retry-After`) are answered before any of that, one per request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::json;

/// A text the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The message's `sid`.
    pub sid: String,
    /// `To`.
    pub to: String,
    /// `From`, or the messaging service's SID.
    pub from: String,
    /// `Body`.
    pub body: String,
}

#[derive(Debug, Default)]
struct Inner {
    texts: Vec<Text>,
    faults: VecDeque<(StatusCode, Option<u64>)>,
}

/// The fake's account and what it received.
#[derive(Debug, Clone)]
pub struct TwilioFake {
    account_sid: String,
    auth_token: String,
    inner: Arc<Mutex<Inner>>,
}

impl TwilioFake {
    /// A fake serving one account.
    pub fn new(account_sid: &str, auth_token: &str) -> TwilioFake {
        TwilioFake {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            inner: Arc::default(),
        }
    }

    /// The texts accepted so far, in order.
    pub fn texts(&self) -> Vec<Text> {
        self.lock().texts.clone()
    }

    /// Answers the next request with `status` (and `Retry-After: retry_after` seconds).
    pub fn fail_next(&self, status: StatusCode, retry_after: Option<u64>) {
        self.lock().faults.push_back((status, retry_after));
    }

    /// The router, to serve on loopback.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/2010-04-01/Accounts/{account}/Messages.json", post(create))
            .with_state(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn authenticated(&self, headers: &HeaderMap) -> bool {
        let expected = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.account_sid, self.auth_token));
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .is_some_and(|given| {
                constant_time_eq::constant_time_eq(given.as_bytes(), expected.as_bytes())
            })
    }
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code, "message": message, "status": status.as_u16(),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
    });
    (status, axum::Json(body)).into_response()
}

/// E.164: `+`, then 8 to 15 digits, the first not 0.
fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

async fn create(
    State(fake): State<TwilioFake>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let fault = fake.lock().faults.pop_front();
    if let Some((status, retry_after)) = fault {
        let mut response = error(status, 20500, "Internal Server Error").into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = secs.to_string().parse()
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if !fake.authenticated(&headers) || account != fake.account_sid {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    let Some(to) = field("To") else {
        return error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    if !is_e164(&to) {
        return error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    let Some(from) = field("From").or_else(|| field("MessagingServiceSid")) else {
        return error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        );
    };
    let Some(text) = field("Body") else {
        return error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    };
    if text.chars().count() > 1600 {
        return error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let mut inner = fake.lock();
    let sid = format!("SM{:032x}", inner.texts.len() + 1);
    inner.texts.push(Text {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        body: text.clone(),
    });
    let resource = json!({
        "sid": sid, "account_sid": fake.account_sid, "to": to, "from": from, "body": text,
        "status": "queued", "num_segments": "1", "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", fake.account_sid),
    });
    (StatusCode::CREATED, axum::Json(resource)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_told_apart() {
        assert!(is_e164("+351912345678"));
        assert!(!is_e164("351912345678"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("+12"));
        assert!(!is_e164("+35191234567a"));
    }
}

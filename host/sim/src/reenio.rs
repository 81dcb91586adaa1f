//! A contract fake of reenio's admin API, served on loopback like the lock clouds' fakes
//! (`crate::clouds`): the reservation and customer detail routes over a store
//! that tests and the replay change, with the assumptions written in `latchkey_sources::reenio`'s docs.
//!
//! What it enforces as reenio does (RA, platforms.md §1.5): `Authorization: Bearer` with
//! the account's key (401 otherwise), at most 200 requests per minute (429 with
//! `Retry-After` to the end of the minute; minutes read on the fake's clock, so tests are
//! not timed), 404 for an unknown id. Errors carry `{"Message": "…"}` (an assumption: the
//! error format is not in the material read). Faults on demand through [`Faults`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_engine::clock::Clock;
use latchkey_providers::ProviderError;
use latchkey_providers::credentials::Secret;
use latchkey_sources::reenio::client::{ClientSettings, REQUESTS_PER_MINUTE, ReenioClient};
use latchkey_sources::reenio::wire::{CustomerDetail, ReservationDetail};
use serde_json::json;

use crate::clouds::faults::Faults;

/// The fake reenio account. Cheap to clone; clones share the account.
#[derive(Clone)]
pub struct ReenioFake {
    account: Arc<Mutex<Account>>,
    faults: Faults,
    clock: Arc<dyn Clock>,
}

#[derive(Debug)]
struct Account {
    api_key: String,
    reservations: BTreeMap<i64, ReservationDetail>,
    customers: BTreeMap<i64, CustomerDetail>,
    limit_per_minute: Option<u32>,
    /// The minute being counted (Unix seconds / 60) and its requests so far.
    minute: (i64, u32),
    /// Requests answered, refusals included.
    requests: u64,
}

impl ReenioFake {
    /// An account reachable with `api_key`, limited to reenio's 200 requests a minute on
    /// `clock`.
    pub fn new(api_key: impl Into<String>, clock: Arc<dyn Clock>) -> ReenioFake {
        ReenioFake {
            account: Arc::new(Mutex::new(Account {
                api_key: api_key.into(),
                reservations: BTreeMap::new(),
                customers: BTreeMap::new(),
                limit_per_minute: Some(REQUESTS_PER_MINUTE),
                minute: (i64::MIN, 0),
                requests: 0,
            })),
            faults: Faults::default(),
            clock,
        }
    }

    fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routes this fake serves, under the admin API's base path.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/reservation/detail/{id}", get(reservation))
            .route("/customer/detail/{id}", get(customer))
            .layer(axum::middleware::from_fn_with_state(self.clone(), gate))
            .layer(axum::middleware::from_fn_with_state(
                self.faults.clone(),
                Faults::delay_answers,
            ))
            .with_state(self.clone())
    }

    /// Serves the fake on a fresh loopback port and returns its base URL.
    ///
    /// # Errors
    /// [`ProviderError::Unavailable`] when no loopback port can be bound.
    pub async fn serve_loopback(&self) -> Result<String, ProviderError> {
        crate::clouds::serve_loopback(self.router())
            .await
            .map_err(|e| ProviderError::Unavailable(format!("cannot serve the reenio fake: {e}")))
    }

    /// Serves the fake on loopback and returns a client of it holding the account's key.
    /// `limited` keeps both to reenio's 200 requests a minute; a replay's are unlimited,
    /// since its clock runs far faster than the limiter's.
    ///
    /// # Errors
    /// As [`ReenioFake::serve_loopback`].
    pub async fn serve(&self, limited: bool) -> Result<ReenioClient, ProviderError> {
        if !limited {
            self.set_limit(None);
        }
        let base_url = self.serve_loopback().await?;
        let api_key = Secret::new(self.account().api_key.clone());
        let mut settings = ClientSettings::production(&base_url, api_key);
        if !limited {
            settings.requests_per_minute = None;
        }
        ReenioClient::new(&settings)
    }

    /// The faults planned for this fake.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Requests per minute before 429; `None` for no limit.
    pub fn set_limit(&self, per_minute: Option<u32>) {
        self.account().limit_per_minute = per_minute;
    }

    /// Adds or replaces a reservation.
    pub fn put_reservation(&self, detail: ReservationDetail) {
        self.account().reservations.insert(detail.id, detail);
    }

    /// Adds or replaces a customer.
    pub fn put_customer(&self, detail: CustomerDetail) {
        self.account().customers.insert(detail.id, detail);
    }

    /// The reservation `id`, as the fake holds it.
    pub fn reservation(&self, id: i64) -> Option<ReservationDetail> {
        self.account().reservations.get(&id).cloned()
    }

    /// Deletes reservation `id`; the API answers 404 for it from now on.
    pub fn remove_reservation(&self, id: i64) {
        self.account().reservations.remove(&id);
    }

    /// Requests received so far, refused ones included.
    pub fn requests(&self) -> u64 {
        self.account().requests
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "Message": message }))).into_response()
}

/// Counts the request, then answers an injected fault, a missing or wrong key (401) or a
/// request over the minute's budget (429) before the route sees it.
async fn gate(State(fake): State<ReenioFake>, request: Request, next: Next) -> Response {
    let now = fake.clock.now().unix();
    let over_limit = {
        let mut account = fake.account();
        account.requests += 1;
        let minute = now.div_euclid(60);
        if account.minute.0 != minute {
            account.minute = (minute, 0);
        }
        account.minute.1 += 1;
        if !authorized(request.headers(), &account.api_key) {
            return error(StatusCode::UNAUTHORIZED, "Invalid or missing API key.");
        }
        account
            .limit_per_minute
            .is_some_and(|limit| account.minute.1 > limit)
    };
    if let Some(failure) = fake.faults.take_failure() {
        return failure.decorate(error(failure.status, "Injected failure."));
    }
    if over_limit {
        let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests.");
        let wait = 60 - now.rem_euclid(60);
        if let Ok(value) = wait.to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    next.run(request).await
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq::constant_time_eq(given.as_bytes(), key.as_bytes()))
}

async fn reservation(State(fake): State<ReenioFake>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error(StatusCode::BAD_REQUEST, "The id must be an integer.");
    };
    match fake.reservation(id) {
        Some(detail) => axum::Json(detail).into_response(),
        None => error(StatusCode::NOT_FOUND, "Reservation not found."),
    }
}

async fn customer(State(fake): State<ReenioFake>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error(StatusCode::BAD_REQUEST, "The id must be an integer.");
    };
    match fake.account().customers.get(&id).cloned() {
        Some(detail) => axum::Json(detail).into_response(),
        None => error(StatusCode::NOT_FOUND, "Customer not found."),
    }
}

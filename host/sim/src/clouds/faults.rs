//! Faults a contract fake injects on demand, the same way for every cloud: the next
//! requests answered with a status (429 with `Retry-After`, 500, 503), and answers held
//! back after the request took effect (a client that times out has changed the account
//! all the same). Each fake writes the failure in its own cloud's error format.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// An injected failure: the status, and `Retry-After` in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The status to answer.
    pub status: StatusCode,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

impl Failure {
    /// Adds the `Retry-After` header to `response`, when this failure has one.
    pub fn decorate(self, mut response: Response) -> Response {
        if let Some(value) = self
            .retry_after
            .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[derive(Debug, Default)]
struct Plan {
    failures: VecDeque<Failure>,
    delay: Duration,
}

/// The faults planned for one fake. Cheap to clone; clones share the plan.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers the next `count` requests with `status` (and `Retry-After`, in seconds).
    pub fn fail_next(&self, count: usize, status: StatusCode, retry_after: Option<u64>) {
        self.plan().failures.extend(std::iter::repeat_n(
            Failure {
                status,
                retry_after,
            },
            count,
        ));
    }

    /// Holds every answer back for `delay` (zero to stop).
    pub fn set_delay(&self, delay: Duration) {
        self.plan().delay = delay;
    }

    /// The failure planned for the request being handled, if any.
    pub fn take_failure(&self) -> Option<Failure> {
        self.plan().failures.pop_front()
    }

    /// Middleware holding the answer back for the planned delay, after the handler ran.
    pub async fn delay_answers(
        State(faults): State<Faults>,
        request: Request,
        next: Next,
    ) -> Response {
        let response = next.run(request).await;
        let delay = faults.plan().delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        response
    }
}

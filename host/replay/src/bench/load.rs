//! The load generator: a fixed number of requests in flight over keep-alive loopback
//! connections, for a warm-up and then a measured period; latencies in an HDR histogram.
//!
//! Every request is a canonical `reservation.paid` webhook, signed with Standard Webhooks
//! at the moment it is sent (the service checks the timestamp against its clock), with a
//! webhook id and a reservation id of its own. The same bodies go to the no-op server, so
//! both sides pay the same signing cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use latchkey_engine::clock::{Clock, SystemClock};
use latchkey_engine::rules::EventType;
use latchkey_engine::{
    Guest, Reservation, ReservationId, ReservationStatus, ResourceId, Timestamp,
};
use latchkey_sources::canonical::CanonicalEvent;
use latchkey_sources::signature;

/// How hard and how long to load a server.
#[derive(Debug, Clone, Copy)]
pub struct LoadSpec {
    /// Requests in flight at once (one connection each).
    pub concurrency: usize,
    /// Load before measuring, not counted.
    pub warmup: Duration,
    /// The measured period.
    pub measure: Duration,
}

/// Makes the webhooks: each call to [`Webhooks::sign_next`] gives a new webhook id and a
/// new reservation, paid, arriving 30 to 89 days from now (so its codes are due weeks
/// later and no lock is called during the run), in one of the property's resources.
#[derive(Debug)]
pub struct Webhooks {
    source: String,
    secret: String,
    resources: Vec<ResourceId>,
    tag: String,
    next: AtomicU64,
}

/// One signed webhook, ready to send.
#[derive(Debug, Clone)]
pub struct Signed {
    /// `POST /v1/hooks/{source}` path.
    pub path: String,
    /// `webhook-id`.
    pub webhook_id: String,
    /// `webhook-timestamp`, Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl Webhooks {
    /// Webhooks to `source`, signed with `secret`, about `resources` in turn; `tag` keeps
    /// the ids of one run apart from another's.
    ///
    /// # Errors
    /// When `resources` is empty.
    pub fn new(
        source: &str,
        secret: &str,
        resources: Vec<ResourceId>,
        tag: &str,
    ) -> anyhow::Result<Webhooks> {
        anyhow::ensure!(
            !resources.is_empty(),
            "the property has no resources to book"
        );
        Ok(Webhooks {
            source: source.to_owned(),
            secret: secret.to_owned(),
            resources,
            tag: tag.to_owned(),
            next: AtomicU64::new(0),
        })
    }

    /// The next webhook, signed for `now`.
    ///
    /// # Errors
    /// When the secret cannot sign (not `whsec_` and base64) or an id is invalid.
    pub fn sign_next(&self, now: Timestamp) -> anyhow::Result<Signed> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let webhook_id = format!("msg_bench_{}_{n}", self.tag);
        let days = 30 + (n % 60) as i64;
        let check_in = now.plus(days * 86_400);
        let resource = self.resources[(n % self.resources.len() as u64) as usize].clone();
        let event = CanonicalEvent {
            kind: EventType::Paid,
            timestamp: Some(now),
            data: Reservation {
                id: ReservationId::parse(format!("B-{}-{n}", self.tag))
                    .map_err(anyhow::Error::msg)?,
                status: ReservationStatus::Paid,
                resources: vec![resource],
                check_in,
                check_out: check_in.plus(2 * 86_400),
                checked_out_at: None,
                guest: Guest {
                    name: format!("Bench Guest {n}"),
                    email: Some(format!("guest{n}@bench.example")),
                    phone: None,
                    locale: None,
                },
                version: 1,
            },
        };
        let body = serde_json::to_vec(&event)?;
        let signature = signature::sign(&self.secret, &webhook_id, now, &body)
            .with_context(|| format!("signing for source `{}`", self.source))?;
        Ok(Signed {
            path: format!("/v1/hooks/{}", self.source),
            webhook_id,
            timestamp: now.unix(),
            signature,
            body,
        })
    }
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Requests answered 2xx within the measured period.
    pub completed: u64,
    /// Answers other than 2xx, warm-up included.
    pub non_2xx: u64,
    /// Requests that got no answer (connection or timeout errors), warm-up included.
    pub transport_errors: u64,
    /// The first failure seen (status and start of the body, or the error), if any.
    pub first_failure: Option<String>,
    /// The measured period.
    pub measured: Duration,
    /// Latency of the requests answered 2xx in the measured period, in microseconds.
    pub latency_us: Histogram<u64>,
}

impl LoadResult {
    /// 2xx answers per second in the measured period.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.measured.as_secs_f64();
        if secs > 0.0 {
            self.completed as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency at `quantile` (0.5 for the median, 0.99 for p99), in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency_us.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// Whether every request was answered 2xx.
    pub fn clean(&self) -> bool {
        self.non_2xx == 0 && self.transport_errors == 0
    }
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    // 1 µs to 60 s, three significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).context("creating a latency histogram")
}

/// Loads `targets` (base URLs such as `http://127.0.0.1:8080`, each request to the next
/// in turn) with `webhooks` as `spec` says.
///
/// # Errors
/// When the HTTP client cannot be built, no target is given, or a webhook cannot be
/// signed; failed requests are counted, not errors.
pub async fn run(
    targets: &[String],
    webhooks: Arc<Webhooks>,
    spec: LoadSpec,
) -> anyhow::Result<LoadResult> {
    anyhow::ensure!(!targets.is_empty(), "nothing to load");
    anyhow::ensure!(spec.concurrency > 0, "the concurrency must be at least 1");
    // reqwest is built without a default TLS provider; loopback HTTP needs none, but
    // the builder asks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(spec.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let targets: Arc<Vec<String>> = Arc::new(targets.to_vec());
    let started = Instant::now();
    let measure_from = started + spec.warmup;
    let until = measure_from + spec.measure;
    let turn = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..spec.concurrency {
        let worker = Worker {
            client: client.clone(),
            targets: Arc::clone(&targets),
            webhooks: Arc::clone(&webhooks),
            turn: Arc::clone(&turn),
            measure_from,
            until,
        };
        workers.spawn(worker.run());
    }
    let mut total = LoadResult {
        completed: 0,
        non_2xx: 0,
        transport_errors: 0,
        first_failure: None,
        measured: spec.measure,
        latency_us: histogram()?,
    };
    while let Some(joined) = workers.join_next().await {
        let part = joined.context("a load worker panicked")??;
        total.completed += part.completed;
        total.non_2xx += part.non_2xx;
        total.transport_errors += part.transport_errors;
        if total.first_failure.is_none() {
            total.first_failure = part.first_failure;
        }
        total
            .latency_us
            .add(&part.latency_us)
            .context("merging latency histograms")?;
    }
    Ok(total)
}

struct Worker {
    client: reqwest::Client,
    targets: Arc<Vec<String>>,
    webhooks: Arc<Webhooks>,
    turn: Arc<AtomicU64>,
    measure_from: Instant,
    until: Instant,
}

impl Worker {
    async fn run(self) -> anyhow::Result<LoadResult> {
        let mut out = LoadResult {
            completed: 0,
            non_2xx: 0,
            transport_errors: 0,
            first_failure: None,
            measured: self.until - self.measure_from,
            latency_us: histogram()?,
        };
        while Instant::now() < self.until {
            let signed = self.webhooks.sign_next(SystemClock.now())?;
            let n = self.turn.fetch_add(1, Ordering::Relaxed) as usize;
            let url = format!("{}{}", self.targets[n % self.targets.len()], signed.path);
            let sent = Instant::now();
            let answer = self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &signed.webhook_id)
                .header("webhook-timestamp", signed.timestamp.to_string())
                .header("webhook-signature", &signed.signature)
                .body(signed.body)
                .send()
                .await;
            let answer = match answer {
                Ok(response) => {
                    let status = response.status();
                    // Read the body to its end so the connection is kept for the next one.
                    let body = response.bytes().await;
                    body.map(|b| (status, b))
                }
                Err(e) => Err(e),
            };
            let done = Instant::now();
            match answer {
                Ok((status, _)) if status.is_success() => {
                    if done >= self.measure_from && done < self.until {
                        out.completed += 1;
                        let us = u64::try_from((done - sent).as_micros()).unwrap_or(u64::MAX);
                        out.latency_us.saturating_record(us.max(1));
                    }
                }
                Ok((status, body)) => {
                    out.non_2xx += 1;
                    if out.first_failure.is_none() {
                        let text = String::from_utf8_lossy(&body);
                        let text: String = text.chars().take(300).collect();
                        out.first_failure = Some(format!("POST {url}: {status}: {text}"));
                    }
                }
                Err(e) => {
                    out.transport_errors += 1;
                    if out.first_failure.is_none() {
                        out.first_failure = Some(format!("POST {url}: {e}"));
                    }
                    // A refused connection fails at once; do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_zNLR+bTPxvKLHY4iLDOs2bkgI3WOytRw";

    #[test]
    fn each_webhook_is_new_signed_and_parses_as_a_canonical_event() {
        let resources = vec![
            ResourceId::parse("101").expect("id"),
            ResourceId::parse("102").expect("id"),
        ];
        let hooks = Webhooks::new("demo", SECRET, resources, "t1").expect("webhooks");
        let now = Timestamp(1_800_000_000);
        let a = hooks.sign_next(now).expect("signs");
        let b = hooks.sign_next(now).expect("signs");
        assert_ne!(a.webhook_id, b.webhook_id);
        assert_eq!(a.path, "/v1/hooks/demo");
        assert_eq!(a.timestamp, now.unix());
        let event: CanonicalEvent = serde_json::from_slice(&a.body).expect("canonical");
        let other: CanonicalEvent = serde_json::from_slice(&b.body).expect("canonical");
        assert_ne!(event.data.id, other.data.id);
        assert_ne!(event.data.resources, other.data.resources);
        assert!(event.data.check_in.unix() >= now.unix() + 30 * 86_400);
        // The service's own verifier accepts the signature.
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("webhook-id", a.webhook_id.parse().expect("header"));
        headers.insert(
            "webhook-timestamp",
            a.timestamp.to_string().parse().expect("header"),
        );
        headers.insert("webhook-signature", a.signature.parse().expect("header"));
        assert!(signature::verify(SECRET, &headers, &a.body, now).is_ok());
        assert!(signature::verify(SECRET, &headers, &b.body, now).is_err());
    }

    #[test]
    fn a_property_without_resources_is_refused() {
        assert!(Webhooks::new("demo", SECRET, Vec::new(), "t").is_err());
    }

    #[test]
    fn throughput_counts_only_the_measured_period() {
        let r = LoadResult {
            completed: 5_000,
            non_2xx: 0,
            transport_errors: 0,
            first_failure: None,
            measured: Duration::from_secs(10),
            latency_us: histogram().expect("histogram"),
        };
        assert!((r.requests_per_second() - 500.0).abs() < 1e-9);
        assert!(r.clean());
    }
}

//! Contract fakes of the lock makers' clouds: HTTP servers that follow each published API,
//! with a model of every lock (which PIN opens which door when) and faults on demand. The
//! provider clients are tested against them over loopback, and `latchkey replay` can run
//! against them.
//!
//! What the fakes share lives here: the lock model ([`model`]), the fault plan
//! ([`faults`]) and serving a router on loopback ([`serve_loopback`]).

pub mod faults;
pub mod igloohome;
pub mod model;
pub mod nuki;
pub mod seam;
pub mod ttlock;

/// Serves `router` on a fresh loopback port in the background and returns its base URL
/// (`http://127.0.0.1:PORT`).
///
/// # Errors
/// When no loopback port can be bound.
pub async fn serve_loopback(router: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base_url)
}

/// Serves `router` on loopback, as [`serve_loopback`], and returns the HTTP settings a
/// replay's client uses to reach it: no rate limit (the fake has none to protect) and a
/// 10 s timeout. `cloud` names the fake in the error.
///
/// # Errors
/// [`latchkey_providers::ProviderError::Unavailable`] when no loopback port can be bound.
pub async fn serve_for_replay(
    router: axum::Router,
    cloud: &str,
) -> Result<latchkey_providers::http::HttpSettings, latchkey_providers::ProviderError> {
    let base_url = serve_loopback(router).await.map_err(|e| {
        latchkey_providers::ProviderError::Unavailable(format!(
            "cannot serve the {cloud} fake: {e}"
        ))
    })?;
    Ok(latchkey_providers::http::HttpSettings {
        base_url,
        timeout: std::time::Duration::from_secs(10),
        requests_per_second: None,
    })
}

//! The ceiling: an axum server in this process that answers `204 No Content` to
//! `POST /v1/hooks/demo` without reading the request, on the same loopback path and
//! with the same client as the real service.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A running no-op server; stopped when dropped.
#[derive(Debug)]
pub struct NoopServer {
    /// Where it listens (127.0.0.1, a port the OS chose).
    pub addr: SocketAddr,
    stop: CancellationToken,
}

impl NoopServer {
    /// Starts the server on a free loopback port, on the current runtime.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start() -> anyhow::Result<NoopServer> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a loopback port for the no-op server")?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let app = Router::new().route(
            "/v1/hooks/{source}",
            post(|| async { StatusCode::NO_CONTENT }),
        );
        let stopped = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
            if let Err(e) = served {
                eprintln!("bench: the no-op server stopped: {e}");
            }
        });
        Ok(NoopServer { addr, stop })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for NoopServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

//! Running the service: the HTTP server and the job worker side by side, on a listener
//! the caller binds (so tests can bind port 0).

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::App;

/// Serves `app` on `listener` with the job worker beside it, and the lock sync every
/// `sync_every` (none: no periodic sync), until `stop` resolves; then the server finishes
/// the requests in flight, the worker stops after its current job, and the database is
/// closed.
///
/// # Errors
/// When the HTTP server fails.
pub async fn serve(
    app: App,
    listener: TcpListener,
    sync_every: Option<std::time::Duration>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Calendar feeds are polled by durable jobs; the first poll of each is due now.
    crate::inbox::ical::schedule_all(&app)
        .await
        .context("scheduling the calendar feeds")?;
    let cancel = CancellationToken::new();
    let worker = {
        let (app, cancel) = (app.clone(), cancel.clone());
        tokio::spawn(async move { crate::jobs::work(&app, cancel).await })
    };
    let sync = sync_every.map(|every| {
        tokio::spawn(crate::monitor::run_every(
            app.clone(),
            every,
            cancel.clone(),
        ))
    });
    let server_cancel = cancel.clone();
    let server = axum::serve(listener, crate::http::router(app.clone())).with_graceful_shutdown(
        async move {
            tokio::select! {
                () = stop => {}
                () = server_cancel.cancelled() => {}
            }
        },
    );
    let result = server.await.context("HTTP server failed");
    cancel.cancel();
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "job worker stopped abnormally");
    }
    if let Some(Err(e)) = match sync {
        Some(task) => Some(task.await),
        None => None,
    } {
        tracing::error!(error = %e, "lock sync stopped abnormally");
    }
    app.close().await;
    tracing::info!("stopped");
    result
}

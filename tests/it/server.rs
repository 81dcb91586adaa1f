//! The service as `serve` runs it: a real socket, and the job worker acting on its own.

use latchkey_engine::clock::Clock;
use latchkey_service::jobs::LEASE_SECS;
use latchkey_sources::signature;
use latchkey_store::jobs::claim_due;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{DEMO_SECRET, TEST_WORKER, TestApp, paid_stay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_real_socket_the_worker_puts_the_code_on_the_lock_by_itself() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(latchkey_service::server::serve(
        app.app.clone(),
        listener,
        None,
        async {
            let _ = stopped.await;
        },
    ));

    let body = serde_json::to_vec(&paid_stay()).expect("json");
    let now = app.clock.now();
    let signature = signature::sign(DEMO_SECRET, "msg-socket", now, &body).expect("sign");
    let head = format!(
        "POST /v1/hooks/demo HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         webhook-id: msg-socket\r\nwebhook-timestamp: {}\r\nwebhook-signature: {signature}\r\nconnection: close\r\n\r\n",
        body.len(),
        now.unix()
    );
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&body).await.expect("write body");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read answer");
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");

    // Nobody runs the jobs here: the worker wakes on the enqueue and does it.
    let mut state = None;
    for _ in 0..200 {
        state = app.code_on("R-1", "room-101").await.map(|c| c.1);
        if state.as_deref() == Some("active") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        state.as_deref(),
        Some("active"),
        "the worker put the code on the lock"
    );

    stop.send(()).expect("server still running");
    server.await.expect("server task").expect("clean shutdown");
}

/// A process that dies while it runs a job leaves the job leased for two minutes; started
/// again under the same worker name, it takes the job back at once.
#[tokio::test]
async fn a_restarted_process_takes_back_at_once_the_job_it_was_running() {
    let app = TestApp::spawn("2026-11-22T10:00:00Z").await;
    app.run_jobs().await; // the capacity forecast, due at start: next in 6 hours
    assert_eq!(app.send(&paid_stay()).await.status, 202);
    // The worker claims the reservation's reconcile, and the process dies before it ends.
    {
        let mut conn = app.app.pool.acquire().await.expect("connection");
        let claimed = claim_due(&mut conn, app.clock.now(), LEASE_SECS, TEST_WORKER)
            .await
            .expect("claim")
            .expect("the reconcile is due");
        assert_eq!(claimed.kind, "reconcile");
    }
    let app = app.restart().await;
    // The clock has not moved: only the release at start makes the job claimable.
    app.run_jobs().await;
    assert_eq!(
        app.code_on("R-1", "room-101").await.map(|c| c.1).as_deref(),
        Some("active"),
        "the restarted process ran the job it held"
    );
}

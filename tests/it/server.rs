//! The service as `serve` runs it: a real socket, and the job worker acting on its own.

use latchkey_engine::clock::Clock;
use latchkey_sources::signature;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{DEMO_SECRET, TestApp, paid_stay};

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

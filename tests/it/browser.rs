//! Running a page test in real Chromium: Debian's `/usr/bin/chromium`, driven by a node
//! script in `tests/dashboard/` through npm's `playwright-core`, against the real router
//! served on a TCP port of this process.

use std::path::PathBuf;
use std::process::Command;

use axum::Router;

/// Where the node scripts live.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dashboard")
}

/// Where the scripts save their screenshots.
pub fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// Serves `router` on a free port and runs `node tests/dashboard/{script}` with the
/// arguments `args` makes of the server's base URL (`http://127.0.0.1:{port}`); asserts
/// that the script exits 0 and answers its standard output.
pub async fn run(router: &Router, script: &str, args: impl FnOnce(&str) -> Vec<String>) -> String {
    let scripts = scripts_dir();
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "the browser tests need playwright-core: run `npm ci --prefix tests/dashboard` \
         (and `apt-get install chromium` for /usr/bin/chromium)"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let server = tokio::spawn(axum::serve(listener, router.clone()).into_future());
    let script = scripts.join(script);
    let args = args(&base);
    // The browser calls back into this process's server: node runs off the runtime's
    // threads so the server keeps answering.
    let output =
        tokio::task::spawn_blocking(move || Command::new("node").arg(&script).args(&args).output())
            .await
            .expect("node runs to the end")
            .expect("`node` is installed");
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser test failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}

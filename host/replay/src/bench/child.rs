//! `latchkey serve` as a child process: started on a free loopback port, awaited until
//! `GET /readyz` answers 200, killed (and reaped) when dropped, on every exit path.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::rss::{self, Memory};

/// How long a child may take to answer `/readyz` (migrations included), in seconds.
const READY_WITHIN_SECS: u64 = 60;

/// What to start.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    /// The `latchkey` binary (this one).
    pub exe: PathBuf,
    /// The property directory, absolute.
    pub property: PathBuf,
    /// What `serve --database` gets: a SQLite file or a `postgres://` URL.
    pub database: String,
    /// Directory for the child's plugin cache.
    pub scratch: PathBuf,
    /// Directory for the child's log (standard output and error).
    pub logs: PathBuf,
    /// Whether the logs outlive the run (`--logs`), so that messages may name them.
    pub logs_kept: bool,
}

/// A running `serve`; killed and reaped when dropped.
#[derive(Debug)]
pub struct ServeChild {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its standard output and error.
    pub log: PathBuf,
    log_kept: bool,
}

impl ServeChild {
    /// Starts `serve` as `label` (names its log) and waits until it is ready.
    ///
    /// # Errors
    /// When it cannot be started, exits, or is not ready within a minute; the message
    /// ends with the last lines of its log.
    pub async fn start(spec: &ServeSpec, label: &str) -> anyhow::Result<ServeChild> {
        let addr = free_port()?;
        let log = spec.logs.join(format!("{label}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(&spec.exe)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--database")
            .arg(&spec.database)
            .arg("--property")
            .arg(&spec.property)
            .arg("--wasm-cache")
            .arg(spec.scratch.join(format!("{label}.wasm-cache")))
            .args(["--sync-every", "0", "--log-format", "text"])
            // Plain text in the log file, without terminal colours.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {} serve", spec.exe.display()))?;
        let mut started = ServeChild {
            child,
            addr,
            log,
            log_kept: spec.logs_kept,
        };
        started.wait_ready(label).await?;
        Ok(started)
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's memory now (its peak so far included).
    ///
    /// # Errors
    /// When `/proc/<pid>/status` cannot be read.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        rss::of_process(self.child.id())
    }

    async fn wait_ready(&mut self, label: &str) -> anyhow::Result<()> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the HTTP client")?;
        let url = format!("{}/readyz", self.base_url());
        let deadline = Instant::now() + Duration::from_secs(READY_WITHIN_SECS);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{label}: `latchkey serve` exited ({status}) before it was ready; {}",
                    log_tail(&self.log, self.log_kept)
                );
            }
            let last = match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => format!("GET /readyz answered {}", r.status()),
                Err(e) => format!("GET /readyz: {e}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "{label}: `latchkey serve` was not ready within {READY_WITHIN_SECS} s ({last}); {}",
                    log_tail(&self.log, self.log_kept)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        // Already exited: kill fails harmlessly; wait reaps either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port the OS just handed out (and took back).
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?)
}

/// The last lines of a child's log, for an error message; its path when it is `kept`.
fn log_tail(path: &Path, kept: bool) -> String {
    const LINES: usize = 12;
    let name = if kept {
        format!("its log ({})", path.display())
    } else {
        "its log (--logs DIR keeps it)".to_owned()
    };
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(LINES)..].join("\n    ");
            format!("{name} ends with:\n    {tail}")
        }
        Ok(_) => format!("{name} is empty"),
        Err(e) => format!("{name} cannot be read: {e}"),
    }
}

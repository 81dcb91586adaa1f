//! `latchkey alerts`, `latchkey locks` and `latchkey sync`: the front desk's view of the
//! locks from a terminal.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use latchkey_engine::Timestamp;
use latchkey_store::{alerts, monitoring};

use super::StoreArgs;
use super::admin::open;

/// Flags of `latchkey sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The running service to ask (the lock clouds' state and the simulator live in it).
    #[arg(long, env = "LATCHKEY_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// An API key of the `desk` or `admin` role (`latchkey keys create`).
    #[arg(long, env = "LATCHKEY_API_KEY", hide_env_values = true)]
    pub api_key: String,
}

/// Lists the alerts, newest first.
pub(super) async fn alerts(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let (pool, ws) = open(&args).await?;
    let list = alerts::list(&mut *pool.acquire().await?, &ws).await?;
    if list.is_empty() {
        println!("no alerts");
    }
    for a in list {
        println!(
            "{:>6}  {}  {:<22} {:<16} {}",
            a.id,
            Timestamp(a.raised_at),
            a.kind,
            a.lock_id.unwrap_or_default(),
            a.message
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists every lock's status as the last sync stored it.
pub(super) async fn locks(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let (pool, ws) = open(&args).await?;
    let list = monitoring::statuses(&mut *pool.acquire().await?, &ws).await?;
    if list.is_empty() {
        println!("no lock synced yet: `latchkey sync` asks a running service for a sync now");
    }
    for s in list {
        println!(
            "{:<20} {:<8} battery {:>4} {:<8} checked {}{}",
            s.lock_id,
            if s.online { "online" } else { "OFFLINE" },
            s.battery_percent
                .map(|p| format!("{p}%"))
                .unwrap_or_else(|| "?".into()),
            s.battery_level.unwrap_or_default(),
            Timestamp(s.checked_at),
            s.error.map(|e| format!("  error: {e}")).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks the running service for a sync now (`POST /v1/locks/sync`) and prints its report.
pub(super) async fn sync(args: SyncArgs) -> anyhow::Result<ExitCode> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("{}/v1/locks/sync", args.server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&args.api_key)
        .send()
        .await
        .with_context(|| format!("no answer from {url}: is `latchkey serve` running?"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {body}");
    let report: serde_json::Value =
        serde_json::from_str(&body).with_context(|| format!("{url} answered {body}"))?;
    println!(
        "synced {} locks: {} online, {} offline, {} failed; {} new activity entries, {} codes \
         put back, {} codes made outside Latchkey, {} alerts raised",
        report["locks"],
        report["online"],
        report["offline"],
        report["failed"],
        report["new_activity"],
        report["codes_restored"],
        report["unmanaged_codes"],
        report["alerts_raised"]
    );
    Ok(ExitCode::SUCCESS)
}

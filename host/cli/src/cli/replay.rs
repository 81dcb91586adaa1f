//! `latchkey replay`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use latchkey_replay::clouds::ProviderMix;
use latchkey_replay::driver::{self, ReplayOptions};
use latchkey_replay::faults::FaultSpec;
use latchkey_replay::reenio::ReplaySource;

/// Flags of `latchkey replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Bookings as CSV in the "Hotel booking demand" format.
    #[arg(long)]
    pub bookings: PathBuf,
    /// Property directory: time zone, stay times, shared doors, room lock mix.
    #[arg(long, default_value = "examples/hotel")]
    pub property: PathBuf,
    /// Rule to replay instead of the property's: a Rhai script (.rhai) or a WebAssembly
    /// component (.wasm).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// A second rule (.rhai or .wasm) evaluated beside the first on every rule input; the
    /// replay reports the inputs on which their plans differ and fails if any do.
    #[arg(long)]
    pub compare_with: Option<PathBuf>,
    /// Faults: `none`, `default`, or e.g. `duplicate=0.05,reorder=0.1,restart-every=500`
    /// (keys: duplicate, reorder, lost-ack, provider-error, provider-timeout, outage,
    /// outage-max, restart-every, tamper: a code changed on its lock behind our back).
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// Seed for every random choice; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Keep the service's database in this SQLite file (a temporary file otherwise), or
    /// replay on PostgreSQL: `postgres://user@host/db` names a server on which the replay
    /// creates a fresh database of its own, dropped at the end.
    #[arg(long, value_name = "FILE|URL")]
    pub database: Option<latchkey_store::Database>,
    /// Run this many service replicas on the shared database (PostgreSQL only); webhooks
    /// go to them in turn and their job workers run side by side.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub replicas: u16,
    /// Where the room locks live: `simulator`, or `fakes` to spread them over the
    /// simulator and the Nuki, TTLock, igloohome and Seam contract fakes, which the
    /// replay serves on loopback and reaches through the real clients. Provider faults
    /// (`provider-error`, `outage`, …) apply to simulator locks only.
    #[arg(long, value_enum, default_value_t = ProviderMix::Simulator)]
    pub providers: ProviderMix,
    /// How bookings reach the service: `canonical` signed webhooks with the full state, or
    /// `reenio` triggers (ids only) to the property's reenio source, the reservations
    /// served by a reenio contract fake the replay starts on loopback.
    #[arg(long, value_enum, default_value_t = ReplaySource::Canonical)]
    pub source: ReplaySource,
    /// Codes each simulated shared door holds at once, in place of its `max_codes` in
    /// `property.toml` (overflow doors keep theirs): set it below the busiest night's
    /// demand to see the forecast's alerts and the rule's `when_full` strategy at work.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shared_door_capacity: Option<u32>,
}

pub(super) async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let faults: FaultSpec = args
        .faults
        .parse()
        .with_context(|| format!("--faults {}", args.faults))?;
    let options = ReplayOptions {
        bookings: args.bookings,
        property: args.property,
        rules: args.rules,
        compare_with: args.compare_with.clone(),
        faults,
        seed: args.seed,
        database: args.database,
        replicas: usize::from(args.replicas),
        progress: std::io::stderr().is_terminal(),
        providers: args.providers,
        source: args.source,
        shared_door_capacity: args.shared_door_capacity,
    };
    let report = tokio::task::spawn_blocking(move || driver::run_blocking(options)).await??;
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let c = &report.counts;
    println!(
        "replayed {} bookings: {} webhooks sent, {} acknowledged, {} rejected; codes created {}, updated {}, revoked {}; guest messages {}; alerts {}, dead letters {}, restarts {}",
        c.bookings,
        c.webhooks_sent,
        c.webhooks_acknowledged,
        c.webhooks_rejected,
        c.codes_created,
        c.codes_updated,
        c.codes_revoked,
        c.messages_sent,
        c.alerts,
        c.dead_letters,
        c.restarts
    );
    if args.source == ReplaySource::Reenio {
        println!(
            "reenio: {} changes announced by no trigger (seen with the next one)",
            c.unannounced_changes
        );
    }
    println!(
        "provider calls {}, code creations repeated for one marker {}, backup codes given {}",
        c.provider_calls, c.repeated_creates, c.backups_given
    );
    println!(
        "capacity: {} lock-days alerted over capacity, {} of them at least 72 h ahead; {} guests' codes on overflow doors",
        c.capacity_alerts, c.capacity_alerts_72h_ahead, c.overflowed
    );
    println!("wall time: {:.1} s", c.wall_ms as f64 / 1000.0);
    let r = &report.readiness;
    println!(
        "arrival readiness: {:.2} % ({} of {} guest-door pairs had their code on the lock and told \
         when their window opened; {} had the code but were not told; {} entitled only after it \
         opened, not counted)",
        r.percent,
        r.ready,
        r.pairs,
        r.code_on_lock.saturating_sub(r.ready),
        r.late
    );
    for n in &r.examples {
        println!(
            "  not ready: reservation {} lock {} at {}: {}",
            n.reservation, n.lock, n.window_start, n.why
        );
    }
    let mut plans_agree = true;
    if let (Some(c), Some(path)) = (&report.comparison, &args.compare_with) {
        println!(
            "compared with {}: {} rule inputs, {} with a different plan",
            path.display(),
            c.evaluations,
            c.differing
        );
        for d in &c.examples {
            println!(
                "  reservation {} at {}:\n    in use:   {}\n    compared: {}",
                d.reservation, d.now, d.primary, d.shadow
            );
        }
        plans_agree = c.differing == 0;
    }
    if report.violations.is_empty() {
        println!("violations: 0");
        // A repeated creation is a provider call made twice: as wrong as a violation.
        return Ok(if plans_agree && c.repeated_creates == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let summary: Vec<String> = report
        .by_kind()
        .iter()
        .map(|(k, n)| format!("{k:?}: {n}"))
        .collect();
    println!(
        "violations: {} ({})",
        report.violations.len(),
        summary.join(", ")
    );
    for v in report.violations.iter().take(20) {
        println!(
            "  {:?} at {} reservation {} lock {}: {}",
            v.kind,
            v.at,
            v.reservation.as_ref().map_or("-", |r| r.as_str()),
            v.lock.as_ref().map_or("-", |l| l.as_str()),
            v.detail
        );
    }
    Ok(ExitCode::FAILURE)
}

//! `latchkey bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use latchkey_replay::bench::figures;
use latchkey_replay::bench::load::LoadSpec;
use latchkey_replay::bench::report;
use latchkey_replay::bench::table::{self, Met};
use latchkey_replay::bench::{self as bench, BenchOptions};

/// Flags of `latchkey bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Requests in flight at once during every ingest run (one keep-alive connection each).
    #[arg(long, default_value_t = 32, value_name = "REQUESTS", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Measured seconds of each ingest run (after the warm-up).
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Seconds of load before each ingest run is measured (not counted).
    #[arg(long, default_value_t = 2, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup: u64,
    /// Property directory the `serve` children run and the rule comes from (holds
    /// property.toml and rule-input.json, the sample the rule is evaluated on).
    #[arg(long, default_value = "examples/hotel", value_name = "DIR")]
    pub property: PathBuf,
    /// PostgreSQL server for the PostgreSQL runs, as a URL to a database the user may
    /// connect to, as a user that may create databases; each run gets a database of its
    /// own (latchkey_bench_<pid>_<N>), dropped after. `off` skips the PostgreSQL runs.
    #[arg(
        long,
        env = "LATCHKEY_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/test",
        value_name = "URL|off"
    )]
    pub postgres: String,
    /// The largest number of `serve` replicas on one PostgreSQL database: runs 1, 2, …
    /// up to this many, the load spread over them in turn, at the same concurrency.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=16))]
    pub replicas: u8,
    /// Seconds to evaluate the rule for the evaluations-per-second figure.
    #[arg(long, default_value_t = 2, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub rule_seconds: u64,
    /// Bookings CSV for the resort replay (what `latchkey replay --bookings` takes).
    #[arg(
        long,
        default_value = "../shared/data/hotel_bookings_resort.csv",
        value_name = "FILE"
    )]
    pub bookings: PathBuf,
    /// Skip the resort replay (about 25 s).
    #[arg(long)]
    pub skip_replay: bool,
    /// Also write the table as Markdown to this file (for docs/performance.md).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// The `latchkey` binary started as `serve` [default: this one]; to measure another
    /// build with this load generator.
    #[arg(long, value_name = "FILE")]
    pub serve_exe: Option<PathBuf>,
    /// Keep the `serve` children's logs in this directory (created if missing); by
    /// default they are written to a temporary directory removed at the end.
    #[arg(long, value_name = "DIR")]
    pub logs: Option<PathBuf>,
}

pub(super) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let postgres = match args.postgres.trim() {
        "off" | "" => None,
        url => {
            // Checked now, not after the SQLite runs.
            match url.parse::<latchkey_store::Database>() {
                Ok(latchkey_store::Database::Postgres(_)) => Some(url.to_owned()),
                _ => anyhow::bail!("--postgres must be a postgres:// URL or `off`"),
            }
        }
    };
    let options = BenchOptions {
        exe: match args.serve_exe {
            Some(exe) => exe,
            None => {
                std::env::current_exe().context("finding the latchkey binary to run as serve")?
            }
        },
        property: args.property,
        load: LoadSpec {
            concurrency: usize::from(args.concurrency),
            warmup: Duration::from_secs(args.warmup),
            measure: Duration::from_secs(args.seconds),
        },
        postgres,
        replicas: usize::from(args.replicas),
        rule_secs: args.rule_seconds as f64,
        bookings: (!args.skip_replay).then_some(args.bookings),
        logs: args.logs,
    };
    let measured = tokio::select! {
        measured = bench::run(&options) => measured?,
        () = super::serve::shutdown_signal() => {
            // The run is dropped by now, and with it every `serve` child (killed and
            // reaped). Exit at once: a replay's thread would keep the runtime alive.
            eprintln!("bench: interrupted");
            std::process::exit(130);
        }
    };
    let rows = report::rows(&measured);
    println!();
    print!("{}", table::text(&rows));
    let failures = figures::failures(&measured);
    if let Some(path) = &args.markdown {
        let mut md = table::markdown(&rows);
        if !failures.is_empty() {
            md.push_str("\nFailures:\n\n");
            for f in &failures {
                md.push_str(&format!("- {}\n", f.replace('\n', " ")));
            }
        }
        std::fs::write(path, md).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("bench: the table is in {}", path.display());
    }
    let unmet: Vec<&str> = rows
        .iter()
        .filter(|r| r.met == Met::No)
        .map(|r| r.measure.as_str())
        .collect();
    if !unmet.is_empty() {
        println!("\nGOALS NOT MET: {}", unmet.join("; "));
    }
    for f in &failures {
        eprintln!("\nerror: {f}");
    }
    Ok(if figures::any_failed(&measured) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

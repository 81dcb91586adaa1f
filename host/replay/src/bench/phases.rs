//! The phases of a bench run, in order; each one's failure is recorded, not fatal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use latchkey_engine::ResourceId;
use latchkey_engine::rules::{self, RuleInput, RuleLimits};
use latchkey_service::catalog::CatalogFile;
use latchkey_service::rule_loader::RuleLoader;
use latchkey_sim::scratch::ScratchDatabase;
use latchkey_sources::SourceForm;
use latchkey_store::Database;

use super::BenchOptions;
use super::child::{ServeChild, ServeSpec};
use super::cpu::{self, CpuUse};
use super::figures::{Figures, Ingest, Phase, ReplayFigures, RuleFigures};
use super::load::{self, Webhooks};
use super::noop::NoopServer;
use super::report::{cpu_figure, grouped};
use super::rss::{self, Memory};
use crate::clouds::ProviderMix;
use crate::driver::{self, ReplayOptions};
use crate::reenio::ReplaySource;

/// Progress, on standard error.
fn say(what: &str) {
    eprintln!("bench: {what}");
}

/// Everything the phases share.
struct Setup<'a> {
    opts: &'a BenchOptions,
    property: PathBuf,
    file: CatalogFile,
    source: String,
    secret: String,
    resources: Vec<ResourceId>,
    scratch: tempfile::TempDir,
}

impl Setup<'_> {
    fn webhooks(&self, label: &str) -> anyhow::Result<Arc<Webhooks>> {
        let tag = format!("{}-{label}", std::process::id());
        Ok(Arc::new(Webhooks::new(
            &self.source,
            &self.secret,
            self.resources.clone(),
            &tag,
        )?))
    }

    fn serve_spec(&self, database: String) -> ServeSpec {
        ServeSpec {
            exe: self.opts.exe.clone(),
            property: self.property.clone(),
            database,
            scratch: self.scratch.path().to_path_buf(),
            logs: self
                .opts
                .logs
                .clone()
                .unwrap_or_else(|| self.scratch.path().to_path_buf()),
            logs_kept: self.opts.logs.is_some(),
        }
    }

    /// Loads `children` (already started and ready, on the PostgreSQL database `postgres`
    /// if given) and reads their memory after.
    async fn load(
        &self,
        children: &[ServeChild],
        postgres: Option<&str>,
        label: &str,
    ) -> anyhow::Result<Ingest> {
        let targets: Vec<String> = children.iter().map(ServeChild::base_url).collect();
        let pids = children.iter().map(ServeChild::pid).collect();
        let (result, cpu) = self.measure(&targets, pids, postgres, label).await?;
        let mut peak: Option<Memory> = None;
        for child in children {
            match child.memory() {
                Ok(m) if peak.is_none_or(|p| m.peak_bytes > p.peak_bytes) => peak = Some(m),
                Ok(_) => {}
                Err(e) => say(&format!("cannot read a serve's memory: {e:#}")),
            }
        }
        Ok(Ingest::new(&result, peak, cpu))
    }

    /// Loads `targets` while sampling the CPU use of this process, `pids` and the
    /// backends of the `postgres` database over the measured period; a CPU use that
    /// cannot be read is said, not fatal.
    async fn measure(
        &self,
        targets: &[String],
        pids: Vec<u32>,
        postgres: Option<&str>,
        label: &str,
    ) -> anyhow::Result<(load::LoadResult, Option<CpuUse>)> {
        let spec = self.opts.load;
        let webhooks = self.webhooks(label)?;
        let (result, cpu) = tokio::join!(
            load::run(targets, webhooks, spec),
            cpu::over(pids, postgres.map(str::to_owned), spec.warmup, spec.measure)
        );
        let cpu = cpu.unwrap_or_else(|e| {
            say(&format!("cannot read the CPU use: {e:#}"));
            None
        });
        Ok((result?, cpu))
    }
}

/// Runs every phase `opts` asks for and returns the figures.
///
/// # Errors
/// Only when nothing can be measured: an unreadable property, a property without a
/// canonical webhook source, no temporary directory. A phase's own failure is recorded
/// in the figures instead.
pub async fn run(opts: &BenchOptions) -> anyhow::Result<Figures> {
    let property = std::path::absolute(&opts.property)
        .with_context(|| format!("--property {}", opts.property.display()))?;
    let file = CatalogFile::load(&property)
        .context("loading the property (run from the repository root, or pass --property DIR)")?;
    let (source, secret) = file
        .sources
        .iter()
        .find(|s| s.form == SourceForm::Canonical)
        .and_then(|s| Some((s.name.clone(), s.secret.clone()?)))
        .with_context(|| {
            format!(
                "{} declares no canonical webhook source with a secret",
                property.display()
            )
        })?;
    let resources = file.resources.iter().map(|r| r.id.clone()).collect();
    let setup = Setup {
        opts,
        property,
        file,
        source,
        secret,
        resources,
        scratch: tempfile::tempdir().context("creating a temporary directory")?,
    };
    if let Some(logs) = &opts.logs {
        std::fs::create_dir_all(logs).with_context(|| format!("--logs {}", logs.display()))?;
    }
    let spec = opts.load;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    say(&format!(
        "{cores} CPU cores; each load: {} requests in flight, {} s warm-up, {} s measured",
        spec.concurrency,
        spec.warmup.as_secs_f64(),
        spec.measure.as_secs_f64()
    ));

    say("[1/5] the no-op handler (the ceiling), in this process");
    let noop = phase(noop(&setup).await);
    say("[2/5] durable ingest on SQLite: one `latchkey serve` on a fresh database file");
    let sqlite = phase(sqlite(&setup).await);
    let postgres = match &opts.postgres {
        None => {
            say("[3/5] PostgreSQL: skipped (--postgres off)");
            skipped_all(opts.replicas, "--postgres off")
        }
        Some(url) => postgres(&setup, url).await,
    };
    say("[4/5] rule evaluations, one thread");
    let rules = phase(rule_phase(&setup).await);
    let replay = match &opts.bookings {
        None => {
            say("[5/5] resort replay: skipped (--skip-replay)");
            Phase::Skipped("--skip-replay".into())
        }
        Some(bookings) => {
            say(&format!(
                "[5/5] resort replay of {} (as `latchkey replay` runs it)",
                bookings.display()
            ));
            phase(replay(&setup, bookings).await)
        }
    };
    let bench_memory = rss::of_self().ok();
    Ok(Figures {
        cores,
        load: spec,
        noop,
        sqlite,
        postgres,
        rules,
        replay,
        bench_memory,
    })
}

/// A phase's result, announced on standard error.
fn phase<T>(result: anyhow::Result<T>) -> Phase<T> {
    match result {
        Ok(t) => Phase::Done(t),
        Err(e) => {
            say(&format!("  failed: {e:#}"));
            Phase::Failed(format!("{e:#}"))
        }
    }
}

fn skipped_all(replicas: usize, why: &str) -> Vec<Phase<Ingest>> {
    (0..replicas).map(|_| Phase::Skipped(why.into())).collect()
}

fn announce(i: &Ingest) {
    let memory = i.serve_memory.map_or(String::new(), |m| {
        format!(", serve peak {:.1} MB", m.peak_mb())
    });
    say(&format!(
        "  {} req/s, p50 {:.2} ms, p99 {:.2} ms, {} not 2xx{memory}",
        grouped(i.requests_per_second),
        i.p50_ms,
        i.p99_ms,
        i.failed
    ));
    if let Some(c) = &i.cpu {
        say(&format!("  CPU: {}", cpu_figure(c)));
    }
}

async fn noop(setup: &Setup<'_>) -> anyhow::Result<Ingest> {
    let server = NoopServer::start().await?;
    let (result, cpu) = setup
        .measure(&[server.base_url()], Vec::new(), None, "noop")
        .await?;
    let ingest = Ingest::new(&result, None, cpu);
    announce(&ingest);
    Ok(ingest)
}

async fn sqlite(setup: &Setup<'_>) -> anyhow::Result<Ingest> {
    let database = setup.scratch.path().join("sqlite.db");
    let spec = setup.serve_spec(database.display().to_string());
    let child = ServeChild::start(&spec, "serve-sqlite").await?;
    let ingest = setup
        .load(std::slice::from_ref(&child), None, "sqlite")
        .await?;
    announce(&ingest);
    Ok(ingest)
}

/// N = 1, 2, … replicas, each N on a database of its own; stops at the first failure.
async fn postgres(setup: &Setup<'_>, url: &str) -> Vec<Phase<Ingest>> {
    let mut out = Vec::new();
    for n in 1..=setup.opts.replicas {
        say(&format!(
            "[3/5] durable ingest on PostgreSQL ({}): {n} `latchkey serve` on one fresh database",
            Database::Postgres(url.to_owned())
        ));
        let result = match ScratchDatabase::create(url, "bench").await {
            Ok(db) => {
                let result = replicas(setup, db.url(), n).await;
                let name = db.database.to_string();
                // The children are stopped by now: `replicas` owns them.
                if let Err(e) = db.drop_database().await {
                    say(&format!(
                        "  could not drop the scratch database {name}: {e:#}"
                    ));
                }
                result
            }
            Err(e) => Err(anyhow::anyhow!(
                "{e:#} (--postgres off skips the PostgreSQL runs)"
            )),
        };
        let failed = result.is_err();
        out.push(phase(result));
        if failed {
            let why = format!("{n} serve(s) on PostgreSQL failed");
            out.extend(skipped_all(setup.opts.replicas - n, &why));
            break;
        }
    }
    out
}

async fn replicas(setup: &Setup<'_>, url: &str, n: usize) -> anyhow::Result<Ingest> {
    let spec = setup.serve_spec(url.to_owned());
    let mut children = Vec::with_capacity(n);
    // One at a time: the first applies the migrations.
    for i in 1..=n {
        children.push(ServeChild::start(&spec, &format!("serve-postgres-{n}-{i}")).await?);
    }
    let ingest = setup.load(&children, Some(url), &format!("pg{n}")).await?;
    announce(&ingest);
    Ok(ingest)
}

async fn rule_phase(setup: &Setup<'_>) -> anyhow::Result<RuleFigures> {
    let rule_path = setup.property.join(&setup.file.rules);
    let input_path = setup.property.join("rule-input.json");
    let budget = Duration::from_secs_f64(setup.opts.rule_secs);
    let figures =
        tokio::task::spawn_blocking(move || evaluate_for(&rule_path, &input_path, budget))
            .await
            .context("the rule evaluation thread panicked")??;
    say(&format!(
        "  {} evaluations/s of {}",
        grouped(figures.evaluations as f64 / figures.seconds.max(f64::MIN_POSITIVE)),
        figures.rule
    ));
    Ok(figures)
}

/// Evaluates the rule at `rule_path` on the input at `input_path` as the reconciler does
/// (plan and validation), over and over for `budget`, on this thread.
fn evaluate_for(
    rule_path: &Path,
    input_path: &Path,
    budget: Duration,
) -> anyhow::Result<RuleFigures> {
    let text = std::fs::read_to_string(input_path)
        .with_context(|| format!("reading the sample rule input {}", input_path.display()))?;
    let input: RuleInput = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a rule input", input_path.display()))?;
    let loader = RuleLoader::new(RuleLimits::default(), None);
    let rule = loader.file(rule_path)?;
    let evaluate = |input: &RuleInput| {
        rules::evaluate(rule.as_ref(), input, loader.limits())
            .with_context(|| format!("{} on {}", rule_path.display(), input_path.display()))
    };
    evaluate(&input)?;
    let started = Instant::now();
    let mut evaluations = 0u64;
    while started.elapsed() < budget {
        std::hint::black_box(evaluate(std::hint::black_box(&input))?);
        evaluations += 1;
    }
    Ok(RuleFigures {
        rule: rule_path.file_name().map_or_else(
            || rule_path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        ),
        evaluations,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn replay(setup: &Setup<'_>, bookings: &Path) -> anyhow::Result<ReplayFigures> {
    anyhow::ensure!(
        bookings.is_file(),
        "no bookings file at {}: pass --bookings FILE, or --skip-replay",
        bookings.display()
    );
    // `latchkey replay`'s defaults.
    let options = ReplayOptions {
        bookings: bookings.to_path_buf(),
        property: setup.property.clone(),
        rules: None,
        compare_with: None,
        faults: "none".parse().context("--faults none")?,
        seed: 1,
        database: None,
        replicas: 1,
        progress: std::io::stderr().is_terminal(),
        providers: ProviderMix::Simulator,
        source: ReplaySource::Canonical,
        shared_door_capacity: None,
    };
    let report = tokio::task::spawn_blocking(move || driver::run_blocking(options))
        .await
        .context("the replay thread panicked")??;
    let figures = ReplayFigures {
        bookings: report.counts.bookings,
        wall_secs: report.counts.wall_ms as f64 / 1000.0,
        violations: report.violations.len(),
    };
    say(&format!(
        "  {} bookings in {:.1} s, {} violations",
        grouped(figures.bookings as f64),
        figures.wall_secs,
        figures.violations
    ));
    Ok(figures)
}

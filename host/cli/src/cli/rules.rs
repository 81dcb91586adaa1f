//! `latchkey rules test`: a dry run of a rule on one input; touches no lock.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use latchkey_engine::rules::{self, RuleInput, RuleLimits};
use latchkey_service::rule_loader::RuleLoader;

/// `latchkey rules …`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Evaluate a rule on an input file and print the plan (a dry run).
    ///
    /// The input is the JSON a rule receives: {event, reservation, property, resources,
    /// locks, now}; see docs/rules.md and examples/hotel/rule-input.json.
    Test(TestArgs),
}

/// Flags of `latchkey rules test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The rule: a Rhai script (.rhai) or a WebAssembly component (.wasm).
    #[arg(long)]
    pub rules: PathBuf,
    /// The rule input, as JSON.
    #[arg(long)]
    pub input: PathBuf,
}

pub(super) fn run(cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    let RulesCommand::Test(args) = cmd;
    let input_text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let input: RuleInput = serde_json::from_str(&input_text)
        .with_context(|| format!("{} is not a rule input", args.input.display()))?;
    let loader = RuleLoader::new(RuleLimits::default(), None);
    let rule = loader.file(&args.rules)?;
    let (outcome, log) = rules::evaluate_with_log(rule.as_ref(), &input, loader.limits());
    for line in &log {
        eprintln!("rule log: {line}");
    }
    match outcome {
        Ok(plan) => {
            println!("{}", serde_json::to_string_pretty(&plan)?);
            let tz = input.property.timezone;
            let local = |t: latchkey_engine::Timestamp| {
                chrono::DateTime::from_timestamp(t.unix(), 0)
                    .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            };
            eprintln!("{} grant(s); times in {}:", plan.grants.len(), tz.name());
            for g in &plan.grants {
                eprintln!(
                    "  {:<20} {} .. {}  (code put on the lock at {})",
                    g.lock,
                    local(g.starts_at),
                    local(g.ends_at),
                    local(g.issue_at())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}", args.rules.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

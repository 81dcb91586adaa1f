//! Where the CPU went during a measured period, from Linux's `/proc/stat` and
//! `/proc/<pid>/stat`: the machine as a whole, this process (the load generator, and the
//! no-op server when it runs), the `serve` children, the PostgreSQL backends serving the
//! run's database, and the rest (PostgreSQL's shared processes, anything else running,
//! the kernel). Shares are in cores' worth, so no clock-tick rate is needed.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// CPU counters at one instant, in clock ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Ticks the machine's CPUs spent busy (not idle, not waiting for I/O), all CPUs.
    pub machine_busy: u64,
    /// All ticks of all CPUs.
    pub machine_total: u64,
    /// CPUs the machine counts (`cpuN` lines).
    pub cpus: usize,
    /// Ticks this process used (user and system).
    pub bench: u64,
    /// Ticks each `serve` child used, by process id.
    pub serves: BTreeMap<u32, u64>,
    /// Ticks each PostgreSQL backend used, by process id (a backend gone is left out).
    pub postgres: Option<BTreeMap<u32, u64>>,
}

/// CPU use over a period, in cores' worth (1.0 = one core busy all the time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    /// Cores the machine has (as `/proc/stat` counts them).
    pub cores: f64,
    /// The whole machine.
    pub busy: f64,
    /// This process: the load generator (and the no-op server).
    pub bench: f64,
    /// The `serve` children.
    pub serves: f64,
    /// The PostgreSQL backends connected to the run's database, when there is one.
    pub postgres: Option<f64>,
    /// Everything else: PostgreSQL's shared processes (WAL writer, checkpointer), other
    /// processes, the kernel's own work.
    pub rest: f64,
}

fn process_ticks(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_process(&text).with_context(|| format!("{path} is not as expected"))
}

/// Samples the machine, this process, the `serves` and the `postgres` backends.
///
/// # Errors
/// When a `/proc` file cannot be read or parsed (not Linux, or a `serve` is gone).
pub fn sample(serves: &[u32], postgres: Option<&[u32]>) -> anyhow::Result<Sample> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let (machine_busy, machine_total, cpus) =
        parse_machine(&stat).context("/proc/stat has no `cpu` line")?;
    let serves = serves
        .iter()
        .map(|&pid| Ok((pid, process_ticks(pid)?)))
        .collect::<anyhow::Result<_>>()?;
    let postgres = postgres.map(|pids| {
        pids.iter()
            .filter_map(|&pid| Some((pid, process_ticks(pid).ok()?)))
            .collect()
    });
    Ok(Sample {
        machine_busy,
        machine_total,
        cpus,
        bench: process_ticks(std::process::id())?,
        serves,
        postgres,
    })
}

/// Ticks used between two samples by the processes present in both.
fn used(before: &BTreeMap<u32, u64>, after: &BTreeMap<u32, u64>) -> u64 {
    after
        .iter()
        .filter_map(|(pid, t)| Some(t.saturating_sub(*before.get(pid)?)))
        .sum()
}

/// The use between `before` and `after`; `None` when no tick passed.
pub fn between(before: &Sample, after: &Sample) -> Option<CpuUse> {
    let total = after.machine_total.checked_sub(before.machine_total)?;
    if total == 0 {
        return None;
    }
    let cores = after.cpus as f64;
    let share = |ticks: u64| ticks as f64 / total as f64 * cores;
    let busy = after.machine_busy.saturating_sub(before.machine_busy);
    let bench = after.bench.saturating_sub(before.bench);
    let serves = used(&before.serves, &after.serves);
    let postgres = match (&before.postgres, &after.postgres) {
        (Some(b), Some(a)) => Some(used(b, a)),
        _ => None,
    };
    let named = bench + serves + postgres.unwrap_or(0);
    Some(CpuUse {
        cores,
        busy: share(busy),
        bench: share(bench),
        serves: share(serves),
        postgres: postgres.map(share),
        rest: share(busy.saturating_sub(named)),
    })
}

/// The process ids of the backends connected to the database of `url` (other than the
/// one asking).
///
/// # Errors
/// When the database cannot be reached.
pub async fn postgres_backends(url: &str) -> anyhow::Result<Vec<u32>> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to list the PostgreSQL backends")?;
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .context("listing the PostgreSQL backends")?;
    conn.close().await.ok();
    Ok(pids
        .into_iter()
        .filter_map(|p| u32::try_from(p).ok())
        .collect())
}

/// Samples after `warmup`, and again `measure` later (durations as the load's), with
/// the backends serving the database of `postgres` when given.
///
/// # Errors
/// As [`sample`] and [`postgres_backends`].
pub async fn over(
    serves: Vec<u32>,
    postgres: Option<String>,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Option<CpuUse>> {
    tokio::time::sleep(warmup).await;
    let backends = match &postgres {
        Some(url) => Some(postgres_backends(url).await?),
        None => None,
    };
    let before = sample(&serves, backends.as_deref())?;
    tokio::time::sleep(measure).await;
    let after = sample(&serves, backends.as_deref())?;
    Ok(between(&before, &after))
}

/// Busy and total ticks from the `cpu` line of `/proc/stat` (user nice system idle
/// iowait irq softirq steal; guest time is already in user and nice), and the number of
/// CPUs (`cpuN` lines).
pub fn parse_machine(stat: &str) -> Option<(u64, u64, usize)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if values.len() < 5 {
        return None;
    }
    let total: u64 = values.iter().sum();
    let idle = values[3] + values[4];
    let cpus = stat
        .lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count();
    Some((total - idle, total, cpus.max(1)))
}

/// utime + stime, in ticks, from a `/proc/<pid>/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted from its last `)`.
pub fn parse_process(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_machine_line_and_leaves_idle_and_iowait_out_of_busy() {
        let stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n\
                    cpu1 50 3 25 400 20 2 1 0 7 0\nintr 1\n";
        assert_eq!(parse_machine(stat), Some((160, 1000, 2)));
        assert_eq!(parse_machine("cpu0 1 2 3 4 5\n"), None);
        assert_eq!(parse_machine("cpu  1 2 x 4 5\n"), None);
    }

    #[test]
    fn reads_a_process_line_whose_name_has_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) worker) S 1 4242 4242 0 -1 4194304 500 0 0 0 \
                    1234 567 0 0 20 0 9 0 100 1000000 2000 18446744073709551615\n";
        assert_eq!(parse_process(stat), Some(1234 + 567));
        assert_eq!(parse_process("4242 (x) S 1 2"), None);
    }

    #[test]
    fn shares_are_in_cores_worth_and_the_rest_is_what_no_one_named_used() {
        let before = Sample {
            machine_busy: 1_000,
            machine_total: 2_000,
            cpus: 2,
            bench: 100,
            serves: BTreeMap::from([(10, 150), (11, 50)]),
            postgres: Some(BTreeMap::from([(20, 10), (21, 5)])),
        };
        let after = Sample {
            machine_busy: 1_190,
            machine_total: 2_200,
            cpus: 2,
            bench: 160,
            serves: BTreeMap::from([(10, 190), (11, 90)]),
            // Backend 21 went away; 22 came after the first sample: neither counts.
            postgres: Some(BTreeMap::from([(20, 30), (22, 99)])),
        };
        let u = between(&before, &after).expect("ticks passed");
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(u.busy, 1.9), "{u:?}");
        assert!(close(u.bench, 0.6), "{u:?}");
        assert!(close(u.serves, 0.8), "{u:?}");
        assert!(u.postgres.is_some_and(|p| close(p, 0.2)), "{u:?}");
        assert!(close(u.rest, 0.3), "{u:?}");
        assert_eq!(between(&after, &after), None);
    }

    #[test]
    fn samples_this_machine() {
        let s = sample(&[std::process::id()], None).expect("a Linux /proc");
        assert!(s.machine_total >= s.machine_busy && s.machine_total > 0);
        assert!(s.postgres.is_none());
    }
}

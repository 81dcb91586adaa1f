//! Resident memory of a process, read from Linux's `/proc/<pid>/status`.

use anyhow::Context;

/// A process's resident set, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// Peak resident set since the process started (`VmHWM`), in bytes.
    pub peak_bytes: u64,
    /// Resident set now (`VmRSS`), in bytes.
    pub current_bytes: u64,
}

impl Memory {
    /// The peak resident set, in megabytes (10^6 bytes, the unit of the goal).
    pub fn peak_mb(&self) -> f64 {
        self.peak_bytes as f64 / 1e6
    }
}

/// Reads the memory figures of process `pid`.
///
/// # Errors
/// When `/proc/<pid>/status` cannot be read (not Linux, or the process is gone) or lacks
/// `VmHWM` or `VmRSS`.
pub fn of_process(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&text).with_context(|| format!("{path} has no VmHWM and VmRSS lines"))
}

/// Reads the memory figures of this process.
///
/// # Errors
/// As [`of_process`].
pub fn of_self() -> anyhow::Result<Memory> {
    of_process(std::process::id())
}

/// Parses the `VmHWM` and `VmRSS` lines of a `/proc/<pid>/status` text (values in kB,
/// which the kernel means as KiB). `None` when either is missing or malformed.
pub fn parse_status(text: &str) -> Option<Memory> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let mut words = rest.split_whitespace();
            let value: u64 = words.next()?.parse().ok()?;
            match words.next() {
                Some("kB") => value.checked_mul(1024),
                _ => None,
            }
        })
    };
    Some(Memory {
        peak_bytes: field("VmHWM")?,
        current_bytes: field("VmRSS")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Name:\tlatchkey\nUmask:\t0022\nState:\tS (sleeping)\n\
        VmPeak:\t 1276292 kB\nVmSize:\t 1210756 kB\nVmLck:\t       0 kB\n\
        VmHWM:\t   48212 kB\nVmRSS:\t   45100 kB\nRssAnon:\t   30000 kB\nThreads:\t5\n";

    #[test]
    fn reads_the_peak_and_current_resident_set_in_bytes() {
        let m = parse_status(SAMPLE).expect("parses");
        assert_eq!(m.peak_bytes, 48_212 * 1024);
        assert_eq!(m.current_bytes, 45_100 * 1024);
        assert!((m.peak_mb() - 49.369).abs() < 0.001, "{}", m.peak_mb());
    }

    #[test]
    fn refuses_a_status_without_the_lines_or_with_other_units() {
        assert_eq!(parse_status("Name:\tx\nVmRSS:\t 10 kB\n"), None);
        assert_eq!(parse_status("VmHWM:\t 10 MB\nVmRSS:\t 10 kB\n"), None);
        assert_eq!(parse_status("VmHWMx:\t 10 kB\nVmRSS:\t 10 kB\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let m = of_self().expect("this process has a status");
        assert!(m.peak_bytes >= m.current_bytes && m.current_bytes > 0);
    }
}

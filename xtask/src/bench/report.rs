//! The printed report: the run's conditions, a table of both variants
//! per endpoint with their ratios, and the verdict on the goal.

use std::fmt::Write as _;
use std::time::Duration;

use super::CONTROL;
use super::options::Options;
use super::pinning::Pinning;
use super::summary::{GOAL, Summary};

/// The machine's load average when the command started and after the
/// measured rounds.
pub(super) struct Load {
    pub(super) before: Option<f64>,
    pub(super) after: Option<f64>,
}

impl Load {
    fn describe(&self, cpus: usize) -> String {
        match (self.before, self.after) {
            (Some(before), Some(after)) => {
                // The benchmark itself keeps about two CPUs busy (wrk and a
                // shop); more than that is other work.
                let busy = if before.max(after) > 2.5 {
                    format!("; other processes were running on these {cpus} CPUs, expect noise")
                } else {
                    String::new()
                };
                format!("load average {before:.2} at the start, {after:.2} after the rounds{busy}")
            }
            _ => "load average unknown".to_owned(),
        }
    }
}

/// A latency as wrk would print it, in µs below 1 ms.
fn show_duration(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 100.0 {
        format!("{micros:.1} µs")
    } else if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

/// `+1.3 %` / `-0.4 %`: how far a ratio is from 1.
pub(super) fn show_change(ratio: f64) -> String {
    format!("{:+.1} %", (ratio - 1.0) * 100.0)
}

/// The whole report, ready to print.
pub(super) fn render(
    options: &Options,
    wrk_version: &str,
    pinning: &Pinning,
    cpus: usize,
    load: &Load,
    summaries: &[Summary],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nservice overhead: the example shop with rasp (A) and without (B), release builds on loopback"
    );
    let _ = writeln!(
        out,
        "{} rounds x {} s per endpoint and variant, {} connections, {} wrk thread(s); {wrk_version}; {}",
        options.rounds,
        options.duration_secs,
        options.connections,
        options.threads,
        pinning.describe(cpus)
    );
    let _ = writeln!(out, "{}", load.describe(cpus));
    let _ = writeln!(
        out,
        "\n{:<18} {:<12} {:>12} {:>13} {:>9} {:>9} {:>9}",
        "endpoint", "variant", "req/s median", "req/s range", "p50", "p99", "CPU/req"
    );
    for s in summaries {
        for (label, figures) in [("A (rasp)", &s.protected), ("B (no rasp)", &s.unprotected)] {
            let _ = writeln!(
                out,
                "{:<18} {:<12} {:>12.0} {:>13} {:>9} {:>9} {:>9}",
                s.endpoint,
                label,
                figures.throughput.median,
                format!(
                    "{:.0}-{:.0}",
                    figures.throughput.min, figures.throughput.max
                ),
                show_duration(figures.p50),
                show_duration(figures.p99),
                figures
                    .cpu_per_request
                    .map_or_else(|| "-".to_owned(), show_duration)
            );
        }
        let _ = writeln!(
            out,
            "{:<18} {:<12} {:>12.3} {:>13} {:>9.3} {:>9.3} {:>9}",
            s.endpoint,
            "A/B",
            s.throughput_ratio.median,
            format!(
                "{:.3}-{:.3}",
                s.throughput_ratio.min, s.throughput_ratio.max
            ),
            s.p50_ratio,
            s.p99_ratio,
            s.cpu_ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"))
        );
    }
    let _ = writeln!(
        out,
        "\ngoal: rasp costs at most {:.0} % of throughput and of p99 latency",
        GOAL * 100.0
    );
    let control = summaries.iter().find(|s| s.endpoint == CONTROL);
    for s in summaries {
        if s.endpoint == CONTROL {
            let _ = writeln!(
                out,
                "{:<18} throughput {}, p99 {}: the control, no rasp code on its path; \
                 this is the run's noise",
                s.endpoint,
                show_change(s.throughput_ratio.median),
                show_change(s.p99_ratio),
            );
            continue;
        }
        let [throughput, p99] = s.verdicts(control);
        let _ = writeln!(
            out,
            "{:<18} throughput {}: {}; p99 {}: {}",
            s.endpoint,
            show_change(s.throughput_ratio.median),
            throughput.describe(),
            show_change(s.p99_ratio),
            p99.describe()
        );
    }
    let _ = writeln!(
        out,
        "(req/s range: lowest and highest round; A/B range: A over B within each round;\n \
         CPU/req: the shop's CPU time per request, little moved by other load)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_and_changes_read_like_wrk() {
        assert_eq!(show_duration(Duration::from_nanos(42_500)), "42.5 µs");
        assert_eq!(show_duration(Duration::from_micros(812)), "812 µs");
        assert_eq!(show_duration(Duration::from_micros(1270)), "1.27 ms");
        assert_eq!(show_change(1.013), "+1.3 %");
        assert_eq!(show_change(0.996), "-0.4 %");
    }
}

//! The measurement: an unmeasured warm-up, then rounds of wrk runs on each
//! endpoint and shop, each with the shop's CPU time per request.

use std::time::Duration;

use super::options::Options;
use super::shops::Shop;
use super::wrk::Wrk;
use super::wrk_report::WrkReport;
use super::{ENDPOINTS, procfs};
use crate::shop::Variant;

/// Length of the unmeasured run that warms each shop and endpoint up
/// (connection setup, SQLite page cache, allocator pools).
const WARM_UP_SECS: u32 = 1;

/// One measured run.
pub(super) struct Sample {
    pub(super) endpoint: &'static str,
    pub(super) variant: Variant,
    pub(super) round: u32,
    pub(super) report: WrkReport,
    /// The shop's CPU time per request during the run, when measured.
    pub(super) cpu_per_request: Option<Duration>,
}

/// Drives every shop and endpoint once, unmeasured.
pub(super) fn warm_up(wrk: &Wrk<'_>, shops: &[Shop]) -> Result<(), String> {
    eprintln!("warming up ({WARM_UP_SECS} s per shop and endpoint)");
    for shop in shops {
        for endpoint in ENDPOINTS {
            wrk.run(&format!("{}{endpoint}", shop.running.url()), WARM_UP_SECS)?;
        }
    }
    Ok(())
}

/// Runs `options.rounds` rounds, each endpoint on each shop once per round.
pub(super) fn measure(
    options: &Options,
    wrk: &Wrk<'_>,
    shops: &[Shop],
) -> Result<Vec<Sample>, String> {
    let clock_ticks = procfs::clock_ticks_per_second();
    let mut samples = Vec::new();
    for round in 0..options.rounds {
        for endpoint in ENDPOINTS {
            // A B in even rounds, B A in odd ones: neither variant always
            // runs on the heels of the other.
            let order: Vec<&Shop> = if round % 2 == 0 {
                shops.iter().collect()
            } else {
                shops.iter().rev().collect()
            };
            for Shop {
                variant,
                running,
                pid,
            } in order
            {
                let url = format!("{}{endpoint}", running.url());
                eprintln!(
                    "round {}/{}: {endpoint} on the {} shop",
                    round + 1,
                    options.rounds,
                    variant.name()
                );
                let cpu_before = pid.and_then(procfs::cpu_ticks);
                let report = wrk.run(&url, options.duration_secs).map_err(|e| {
                    format!(
                        "{e}\nthe {} shop's stderr:\n{}",
                        variant.name(),
                        running.stderr()
                    )
                })?;
                let cpu_per_request = match (cpu_before, pid.and_then(procfs::cpu_ticks)) {
                    (Some(before), Some(after)) if report.requests > 0 => {
                        Some(Duration::from_secs_f64(
                            after.saturating_sub(before) as f64
                                / clock_ticks
                                / report.requests as f64,
                        ))
                    }
                    _ => None,
                };
                samples.push(Sample {
                    endpoint,
                    variant: *variant,
                    round,
                    report,
                    cpu_per_request,
                });
            }
        }
    }
    Ok(samples)
}

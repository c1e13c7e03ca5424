//! Each endpoint's figures over all rounds, A against B, and the verdict
//! on the goal.

use std::time::Duration;

use super::report::show_change;
use super::rounds::Sample;
use super::stats::{Spread, median_duration};
use super::wrk_report::WrkReport;
use crate::shop::Variant;

/// The goal: rasp may cost at most this fraction of throughput and of p99
/// latency.
pub(super) const GOAL: f64 = 0.02;

/// One endpoint's figures for one variant, over all rounds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VariantFigures {
    /// Median, lowest and highest requests per second across rounds.
    pub(super) throughput: Spread,
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    /// Median CPU time of the shop per request, when measured.
    pub(super) cpu_per_request: Option<Duration>,
}

/// One endpoint: both variants, and how A compares with B.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Summary {
    pub(super) endpoint: &'static str,
    pub(super) protected: VariantFigures,
    pub(super) unprotected: VariantFigures,
    /// A/B of the median throughputs, and the range of A/B within rounds.
    pub(super) throughput_ratio: Spread,
    pub(super) p50_ratio: f64,
    pub(super) p99_ratio: f64,
    /// A/B of the median CPU time per request, when both were measured.
    pub(super) cpu_ratio: Option<f64>,
}

impl Summary {
    pub(super) fn of(endpoint: &'static str, samples: &[Sample]) -> Result<Summary, String> {
        let figures = |variant: Variant| -> Result<VariantFigures, String> {
            let ours: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.endpoint == endpoint && s.variant == variant)
                .collect();
            let runs: Vec<&WrkReport> = ours.iter().map(|s| &s.report).collect();
            let cpu: Vec<Duration> = ours.iter().filter_map(|s| s.cpu_per_request).collect();
            if runs.is_empty() {
                return Err(format!("no {} runs of {endpoint}", variant.name()));
            }
            Ok(VariantFigures {
                throughput: Spread::of(runs.iter().map(|r| r.requests_per_sec).collect()),
                p50: median_duration(runs.iter().map(|r| r.p50)),
                p99: median_duration(runs.iter().map(|r| r.p99)),
                cpu_per_request: (cpu.len() == ours.len())
                    .then(|| median_duration(cpu.into_iter())),
            })
        };
        let protected = figures(Variant::Protected)?;
        let unprotected = figures(Variant::Unprotected)?;
        // Within a round A and B ran back to back, under the same machine
        // load: their ratio shows how much of the spread is the machine.
        let in_round: Vec<f64> = samples
            .iter()
            .filter(|a| a.endpoint == endpoint && a.variant == Variant::Protected)
            .filter_map(|a| {
                samples
                    .iter()
                    .find(|b| {
                        b.endpoint == endpoint
                            && b.variant == Variant::Unprotected
                            && b.round == a.round
                    })
                    .map(|b| a.report.requests_per_sec / b.report.requests_per_sec)
            })
            .collect();
        let mut throughput_ratio = Spread::of(in_round);
        throughput_ratio.median = protected.throughput.median / unprotected.throughput.median;
        let cpu_ratio = match (protected.cpu_per_request, unprotected.cpu_per_request) {
            (Some(a), Some(b)) if !b.is_zero() => Some(a.as_secs_f64() / b.as_secs_f64()),
            _ => None,
        };
        Ok(Summary {
            endpoint,
            cpu_ratio,
            p50_ratio: protected.p50.as_secs_f64() / unprotected.p50.as_secs_f64(),
            p99_ratio: protected.p99.as_secs_f64() / unprotected.p99.as_secs_f64(),
            throughput_ratio,
            protected,
            unprotected,
        })
    }

    /// Whether rasp stays within [`GOAL`] on throughput and on p99 latency.
    /// A figure is inconclusive when the control endpoint, which runs no
    /// rasp code in either build, differs between the builds by more than
    /// the goal on that same figure: the run's noise is then larger than
    /// what it is asked to resolve.
    pub(super) fn verdicts(&self, control: Option<&Summary>) -> [Verdict; 2] {
        let judge = |noise: Option<f64>, within: bool| match noise {
            Some(noise) if (noise - 1.0).abs() > GOAL => Verdict::Inconclusive { noise },
            _ if within => Verdict::Met,
            _ => Verdict::NotMet,
        };
        [
            judge(
                control.map(|c| c.throughput_ratio.median),
                self.throughput_ratio.median >= 1.0 - GOAL,
            ),
            judge(control.map(|c| c.p99_ratio), self.p99_ratio <= 1.0 + GOAL),
        ]
    }
}

/// Whether one figure meets the goal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    Met,
    NotMet,
    /// The control differs by `noise` (A/B) on this figure: more than the
    /// goal, so this run cannot tell.
    Inconclusive {
        noise: f64,
    },
}

impl Verdict {
    pub(super) fn describe(self) -> String {
        match self {
            Verdict::Met => "met".to_owned(),
            Verdict::NotMet => "not met".to_owned(),
            Verdict::Inconclusive { noise } => format!(
                "inconclusive: the control differs by {}",
                show_change(noise)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::wrk_report::SocketErrors;

    fn sample(variant: Variant, round: u32, rps: f64, p99_ms: f64) -> Sample {
        Sample {
            endpoint: "/health",
            variant,
            round,
            report: WrkReport {
                requests_per_sec: rps,
                requests: 1,
                p50: Duration::from_millis(1),
                p75: Duration::from_micros(1500),
                p90: Duration::from_millis(2),
                p99: Duration::from_secs_f64(p99_ms / 1e3),
                non_success: 0,
                socket_errors: SocketErrors::default(),
            },
            cpu_per_request: Some(Duration::from_micros(100)),
        }
    }

    #[test]
    fn the_summary_compares_medians_and_judges_the_goal() {
        let samples = [
            sample(Variant::Protected, 0, 990.0, 2.00),
            sample(Variant::Unprotected, 0, 1000.0, 2.00),
            sample(Variant::Protected, 1, 900.0, 2.02),
            sample(Variant::Unprotected, 1, 1000.0, 1.98),
            sample(Variant::Protected, 2, 995.0, 2.01),
            sample(Variant::Unprotected, 2, 1010.0, 1.99),
        ];
        let s = Summary::of("/health", &samples).unwrap();
        assert_eq!(s.protected.throughput.median, 990.0);
        assert_eq!(s.protected.throughput.min, 900.0);
        assert_eq!(s.unprotected.throughput.median, 1000.0);
        assert!((s.throughput_ratio.median - 0.99).abs() < 1e-9);
        assert!((s.throughput_ratio.min - 0.9).abs() < 1e-9);
        assert!((s.p99_ratio - 2.01 / 1.99).abs() < 1e-9);
        assert_eq!(
            s.protected.cpu_per_request,
            Some(Duration::from_micros(100))
        );
        assert_eq!(s.cpu_ratio, Some(1.0));
        assert_eq!(s.verdicts(None), [Verdict::Met, Verdict::Met]);

        let slower = [
            sample(Variant::Protected, 0, 970.0, 2.0),
            sample(Variant::Unprotected, 0, 1000.0, 2.0),
        ];
        let slower = Summary::of("/health", &slower).unwrap();
        assert_eq!(slower.verdicts(None), [Verdict::NotMet, Verdict::Met]);
        let laggier = [
            sample(Variant::Protected, 0, 1000.0, 2.1),
            sample(Variant::Unprotected, 0, 1000.0, 2.0),
        ];
        let laggier = Summary::of("/health", &laggier).unwrap();
        assert_eq!(laggier.verdicts(None), [Verdict::Met, Verdict::NotMet]);
        assert!(Summary::of("/search?q=kettle", &samples).is_err());

        // A quiet control keeps the verdicts; a noisy one makes the figure
        // it is noisy on inconclusive, met or not.
        let quiet = Summary::of("/health", &samples).unwrap();
        assert_eq!(
            slower.verdicts(Some(&quiet)),
            [Verdict::NotMet, Verdict::Met]
        );
        match slower.verdicts(Some(&laggier)) {
            [Verdict::NotMet, Verdict::Inconclusive { noise }] => {
                assert!((noise - 1.05).abs() < 1e-6, "{noise}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            laggier.verdicts(Some(&slower)),
            [Verdict::Inconclusive { noise: 0.97 }, Verdict::NotMet]
        );
    }
}

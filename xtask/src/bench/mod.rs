//! `cargo xtask bench`: what rasp costs a whole service under load.
//!
//! The example shop is built twice in release mode, with rasp (A: the
//! policy, `RaspLayer` and the guarded sinks) and without it (B: the same
//! handlers on plain sinks), and both run side by side on loopback. `wrk`
//! then drives benign traffic at two endpoints: `GET /search?q=kettle`,
//! where rasp records the query and checks the SQL built from it (the term
//! occurs in the statement, so the SQL detector runs on every request), and
//! `GET /health`, a fixed answer outside the layer, where both builds should
//! be equal and any difference is noise.
//!
//! Single runs on a shared machine vary by more than the overhead being
//! measured, so the measurement is repeated in rounds, alternating which
//! variant goes first (A B, then B A, …) so that a drift in machine load
//! falls on both, and the report gives medians, the spread across rounds
//! and the ratios A/B. On a machine with at least two CPUs, the shops are
//! pinned away from `wrk` with `taskset` (`wrk` on CPU 0, the shops on the
//! others) so that the load generator and the server do not take turns on
//! one core.
//!
//! Throughput and latency are what a service's users see, but on a shared
//! machine they move with whatever else runs. The report therefore also
//! gives the shop's own CPU time per request (from `/proc/<pid>/stat`),
//! which other processes barely change: the cost of rasp in CPU, even when
//! the throughput comparison is drowned in noise.
//!
//! `wrk` is read through its `--latency` text report: no Lua script, so any
//! packaged `wrk` works.
//!
//! `--instructions` measures the same two builds another way, by the
//! instructions one request executes under callgrind, which the machine's
//! load does not move ([`instructions`]).
//!
//! The parts: [`options`] (the command line), [`shops`] (the two builds,
//! started), [`pinning`] (which CPUs run what), [`wrk`] and [`wrk_report`]
//! (the load generator and its output), [`rounds`] (the measurement),
//! [`procfs`] (CPU time and load from `/proc`), [`stats`] and [`summary`]
//! (medians, ratios, the verdict on the goal) and [`report`] (the text).

mod instructions;
mod options;
mod pinning;
mod procfs;
mod report;
mod rounds;
mod shops;
mod stats;
mod summary;
mod wrk;
mod wrk_report;

pub(crate) use options::Options;

use pinning::Pinning;
use report::Load;
use summary::{Summary, Verdict};
use wrk::Wrk;

/// The endpoints driven, as path and query.
const ENDPOINTS: [&str; 2] = ["/search?q=kettle", CONTROL];

/// The control: a fixed answer outside rasp's layer in both builds, so any
/// difference between them there is the machine's noise, not rasp.
const CONTROL: &str = "/health";

/// Runs the benchmark and prints the report; `Ok(false)` when `--check` is
/// given and the goal is not met.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    if options.instructions {
        let comparisons = instructions::measure(options.requests)?;
        print!("{}", instructions::render(options.requests, &comparisons));
        let over = comparisons
            .iter()
            .filter(|c| c.added_percent() > options.fail_above)
            .map(|c| c.endpoint.target)
            .collect::<Vec<_>>();
        if options.check && !over.is_empty() {
            eprintln!(
                "rasp adds more than {} % of the instructions of: {}",
                options.fail_above,
                over.join(", ")
            );
        }
        return Ok(!options.check || over.is_empty());
    }
    // Other work on the machine competes with the shops and wrk: say how
    // much there was, so a reader can tell a quiet run from a noisy one.
    // Read before building, which is this command's own load.
    let load_before = procfs::load_average();
    let wrk_version = wrk::version()?;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pinning = Pinning::choose(options.pin, cpus)?;

    let shops = shops::start(&pinning)?;
    let wrk = Wrk {
        pinning: &pinning,
        connections: options.connections,
        threads: options.threads,
    };
    rounds::warm_up(&wrk, &shops)?;
    let samples = rounds::measure(options, &wrk, &shops)?;
    drop(shops);
    let load = Load {
        before: load_before,
        after: procfs::load_average(),
    };

    let summaries: Vec<Summary> = ENDPOINTS
        .iter()
        .map(|endpoint| Summary::of(endpoint, &samples))
        .collect::<Result<_, _>>()?;
    print!(
        "{}",
        report::render(options, &wrk_version, &pinning, cpus, &load, &summaries)
    );
    let control = summaries.iter().find(|s| s.endpoint == CONTROL);
    let failed = summaries
        .iter()
        .filter(|s| s.endpoint != CONTROL)
        .any(|s| s.verdicts(control).contains(&Verdict::NotMet));
    Ok(!(failed && options.check))
}

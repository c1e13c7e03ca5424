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

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::shop::{self, Running, Variant};

/// The goal: rasp may cost at most this fraction of throughput and of p99
/// latency.
const GOAL: f64 = 0.02;

/// Length of the unmeasured run that warms each shop and endpoint up
/// (connection setup, SQLite page cache, allocator pools).
const WARM_UP_SECS: u32 = 1;

/// The environment variable that tags each started shop, so that its
/// process can be found in `/proc` whatever launcher (taskset) started it.
const TAG_VAR: &str = "RASP_BENCH_SHOP";

/// The endpoints driven, as path and query.
const ENDPOINTS: [&str; 2] = ["/search?q=kettle", CONTROL];

/// The control: a fixed answer outside rasp's layer in both builds, so any
/// difference between them there is the machine's noise, not rasp.
const CONTROL: &str = "/health";

/// Parsed command-line options of `bench`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    rounds: u32,
    duration_secs: u32,
    connections: u32,
    threads: u32,
    pin: bool,
    check: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rounds: 5,
            duration_secs: 5,
            connections: 16,
            threads: 1,
            pin: true,
            check: false,
        }
    }
}

impl Options {
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args;
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<u32, String> {
                let text = args.next().ok_or_else(|| format!("{name} needs a value"))?;
                // `5s` reads as 5 for --duration, like wrk's own flag.
                let digits = if name == "--duration" {
                    text.strip_suffix('s').unwrap_or(&text)
                } else {
                    &text
                };
                match digits.parse::<u32>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!(
                        "{name} must be a whole number above 0, not `{text}`"
                    )),
                }
            };
            match arg.as_str() {
                "--rounds" => options.rounds = value("--rounds")?,
                "--duration" => options.duration_secs = value("--duration")?,
                "--connections" => options.connections = value("--connections")?,
                "--threads" => options.threads = value("--threads")?,
                "--no-pin" => options.pin = false,
                "--check" => options.check = true,
                other => return Err(format!("unknown option `{other}` for bench")),
            }
        }
        if options.connections < options.threads {
            return Err(format!(
                "--connections ({}) must be at least --threads ({}): each wrk thread needs a connection",
                options.connections, options.threads
            ));
        }
        Ok(options)
    }
}

/// Runs the benchmark and prints the report; `Ok(false)` when `--check` is
/// given and the goal is not met.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    // Other work on the machine competes with the shops and wrk: say how
    // much there was, so a reader can tell a quiet run from a noisy one.
    // Read before building, which is this command's own load.
    let load_before = load_average();
    let wrk_version = wrk_version()?;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pinning = Pinning::choose(options.pin, cpus)?;

    let mut shops = Vec::new();
    for variant in [Variant::Protected, Variant::Unprotected] {
        let binary = shop::build(variant, true)?;
        let (program, args) = pinning.server_command(&binary);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let tag = format!("{}-{}", std::process::id(), variant.name());
        let running = Running::start(&program, &args, &[(TAG_VAR, &tag)])
            .map_err(|e| format!("the {} shop did not start: {e}", variant.name()))?;
        let pid = find_tagged_process(&tag);
        if pid.is_none() {
            eprintln!(
                "note: the {} shop's process was not found in /proc; no CPU time per request",
                variant.name()
            );
        }
        shops.push(Shop {
            variant,
            running,
            pid,
        });
    }
    let clock_ticks = clock_ticks_per_second();

    let wrk = Wrk {
        pinning: &pinning,
        connections: options.connections,
        threads: options.threads,
    };
    eprintln!("warming up ({WARM_UP_SECS} s per shop and endpoint)");
    for shop in &shops {
        for endpoint in ENDPOINTS {
            wrk.run(&format!("{}{endpoint}", shop.running.url()), WARM_UP_SECS)?;
        }
    }

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
                let cpu_before = pid.and_then(cpu_ticks);
                let report = wrk.run(&url, options.duration_secs).map_err(|e| {
                    format!(
                        "{e}\nthe {} shop's stderr:\n{}",
                        variant.name(),
                        running.stderr()
                    )
                })?;
                let cpu_per_request = match (cpu_before, pid.and_then(cpu_ticks)) {
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
    drop(shops);
    let load = Load {
        before: load_before,
        after: load_average(),
    };

    let summaries: Vec<Summary> = ENDPOINTS
        .iter()
        .map(|endpoint| Summary::of(endpoint, &samples))
        .collect::<Result<_, _>>()?;
    print!(
        "{}",
        render(options, &wrk_version, &pinning, cpus, &load, &summaries)
    );
    let control = summaries.iter().find(|s| s.endpoint == CONTROL);
    let failed = summaries
        .iter()
        .filter(|s| s.endpoint != CONTROL)
        .any(|s| s.verdicts(control).contains(&Verdict::NotMet));
    Ok(!(failed && options.check))
}

/// A started shop.
struct Shop {
    variant: Variant,
    running: Running,
    /// Its process id, when found.
    pid: Option<u32>,
}

/// The process whose environment holds `TAG_VAR=tag`.
fn find_tagged_process(tag: &str) -> Option<u32> {
    let wanted = format!("{TAG_VAR}={tag}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|&b| b == 0)
                .any(|var| var == wanted.as_bytes())
                .then_some(pid)
        })
}

/// User plus system CPU time of process `pid` and all its threads, in
/// clock ticks (`/proc/<pid>/stat`, fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Fields 14 (utime) and 15 (stime) of a `/proc/<pid>/stat` line. The
/// second field, the command name, is in parentheses and may hold spaces,
/// so the count starts after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) onwards: utime is the 12th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 on Linux
/// unless it says otherwise.
fn clock_ticks_per_second() -> f64 {
    #[allow(
        clippy::disallowed_methods,
        reason = "runs getconf with fixed arguments"
    )]
    let output = Command::new("getconf").arg("CLK_TCK").output();
    output
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|&ticks| ticks > 0.0)
        .unwrap_or(100.0)
}

/// The first line of `wrk -v`, or a clear error when wrk is missing.
fn wrk_version() -> Result<String, String> {
    #[allow(
        clippy::disallowed_methods,
        reason = "runs wrk with fixed arguments, no untrusted input"
    )]
    let output = Command::new("wrk").arg("-v").output();
    match output {
        // `wrk -v` prints its version and usage, then exits with 1.
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout);
            Ok(text
                .lines()
                .next()
                .and_then(|line| line.split(" Copyright").next())
                .unwrap_or("wrk")
                .trim()
                .to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("`wrk` is not installed; on Debian or Ubuntu: apt-get install -y wrk".to_owned())
        }
        Err(e) => Err(format!("cannot run wrk: {e}")),
    }
}

/// The 1-minute load average (`/proc/loadavg`), where the system has one.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The machine's load average when the command started and after the
/// measured rounds.
struct Load {
    before: Option<f64>,
    after: Option<f64>,
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

/// Which CPUs the shops and wrk run on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pinning {
    /// Not pinned: the scheduler places everything.
    Off,
    /// wrk on CPU 0, the shops on CPUs 1 to `last`.
    Split { last: usize },
}

impl Pinning {
    fn choose(wanted: bool, cpus: usize) -> Result<Pinning, String> {
        if !wanted || cpus < 2 {
            return Ok(Pinning::Off);
        }
        #[allow(
            clippy::disallowed_methods,
            reason = "probes taskset with fixed arguments"
        )]
        let probe = Command::new("taskset").args(["-c", "0", "true"]).output();
        match probe {
            Ok(output) if output.status.success() => Ok(Pinning::Split { last: cpus - 1 }),
            _ => Err(
                "`taskset` (util-linux) is needed to pin wrk and the shops to separate CPUs; \
                 install it, or pass --no-pin"
                    .to_owned(),
            ),
        }
    }

    fn server_cpus(&self) -> Option<String> {
        match self {
            Pinning::Off => None,
            Pinning::Split { last: 1 } => Some("1".to_owned()),
            Pinning::Split { last } => Some(format!("1-{last}")),
        }
    }

    /// The program and arguments that start `binary` on the shops' CPUs.
    fn server_command(&self, binary: &Path) -> (PathBuf, Vec<String>) {
        match self.server_cpus() {
            None => (binary.to_owned(), Vec::new()),
            // taskset execs the shop: the started process is the shop
            // itself, so stopping it stops the shop.
            Some(cpus) => (
                PathBuf::from("taskset"),
                vec!["-c".to_owned(), cpus, binary.display().to_string()],
            ),
        }
    }

    fn describe(&self, cpus: usize) -> String {
        match self.server_cpus() {
            None if cpus < 2 => format!("not pinned ({cpus} CPU)"),
            None => format!("not pinned ({cpus} CPUs)"),
            Some(server) => format!("shops on CPU {server}, wrk on CPU 0 ({cpus} CPUs)"),
        }
    }
}

/// How wrk is run.
struct Wrk<'a> {
    pinning: &'a Pinning,
    connections: u32,
    threads: u32,
}

impl Wrk<'_> {
    /// Runs wrk against `url` for `secs` seconds and reads its report;
    /// refuses a run with socket errors or non-2xx answers, which would
    /// measure something other than benign traffic.
    fn run(&self, url: &str, secs: u32) -> Result<WrkReport, String> {
        let wrk_args = [
            "--latency".to_owned(),
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{secs}s"),
            url.to_owned(),
        ];
        #[allow(
            clippy::disallowed_methods,
            reason = "runs wrk (through taskset) with arguments built here"
        )]
        let mut command = match self.pinning {
            Pinning::Off => Command::new("wrk"),
            Pinning::Split { .. } => {
                let mut command = Command::new("taskset");
                command.args(["-c", "0", "wrk"]);
                command
            }
        };
        let output = command
            .args(&wrk_args)
            .output()
            .map_err(|e| format!("cannot run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let report = WrkReport::parse(&text).map_err(|e| {
            format!(
                "{e}; wrk {} said:\n{text}{}",
                wrk_args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        if report.non_success > 0 || report.socket_errors.total() > 0 {
            return Err(format!(
                "wrk {}: {} non-2xx answers and socket errors {:?}; the benchmark measures only benign, successful traffic",
                wrk_args.join(" "),
                report.non_success,
                report.socket_errors
            ));
        }
        Ok(report)
    }
}

/// What one wrk run reported.
#[derive(Debug, Clone, PartialEq)]
struct WrkReport {
    /// `Requests/sec:`, over the whole run.
    requests_per_sec: f64,
    /// Completed requests.
    requests: u64,
    /// The latency percentiles of `--latency`: 50 %, 75 %, 90 %, 99 %.
    p50: Duration,
    p75: Duration,
    p90: Duration,
    p99: Duration,
    /// `Non-2xx or 3xx responses:`, 0 when the line is absent.
    non_success: u64,
    /// `Socket errors:`, all 0 when the line is absent.
    socket_errors: SocketErrors,
}

/// wrk's `Socket errors: connect C, read R, write W, timeout T`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SocketErrors {
    connect: u64,
    read: u64,
    write: u64,
    timeout: u64,
}

impl SocketErrors {
    fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

impl WrkReport {
    /// Reads wrk's text report (`wrk --latency`, any thread and connection
    /// count). Lines it does not know are skipped, so that a later wrk that
    /// adds lines still parses; a report without throughput, request count
    /// or the 50 % and 99 % percentiles is an error.
    fn parse(text: &str) -> Result<WrkReport, String> {
        let mut requests_per_sec = None;
        let mut requests = None;
        let mut percentiles: [Option<Duration>; 4] = [None; 4];
        let mut non_success = 0;
        let mut socket_errors = SocketErrors::default();
        let mut in_distribution = false;
        for line in text.lines() {
            let line = line.trim();
            if line == "Latency Distribution" {
                in_distribution = true;
                continue;
            }
            if in_distribution {
                if let Some((percent, value)) = line.split_once('%') {
                    let slot = match percent.trim() {
                        "50" => 0,
                        "75" => 1,
                        "90" => 2,
                        "99" => 3,
                        other => return Err(format!("unexpected percentile `{other}%`")),
                    };
                    percentiles[slot] = Some(parse_duration(value.trim())?);
                    continue;
                }
                in_distribution = false;
            }
            if let Some(rest) = line.strip_prefix("Requests/sec:") {
                let rate = rest.trim();
                requests_per_sec = Some(
                    rate.parse::<f64>()
                        .map_err(|_| format!("unreadable Requests/sec `{rate}`"))?,
                );
            } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
                let count = rest.trim();
                non_success = count
                    .parse()
                    .map_err(|_| format!("unreadable non-2xx count `{count}`"))?;
            } else if let Some(rest) = line.strip_prefix("Socket errors:") {
                socket_errors = parse_socket_errors(rest)?;
            } else if let Some((count, _)) = line.split_once(" requests in ") {
                requests = Some(
                    count
                        .parse::<u64>()
                        .map_err(|_| format!("unreadable request count `{count}`"))?,
                );
            }
        }
        let [p50, p75, p90, p99] = percentiles;
        let missing = |what: &str| format!("wrk's report has no {what}");
        Ok(WrkReport {
            requests_per_sec: requests_per_sec.ok_or_else(|| missing("Requests/sec line"))?,
            requests: requests.ok_or_else(|| missing("`N requests in …` line"))?,
            p50: p50.ok_or_else(|| missing("50% latency (was --latency given?)"))?,
            p75: p75.unwrap_or_default(),
            p90: p90.unwrap_or_default(),
            p99: p99.ok_or_else(|| missing("99% latency (was --latency given?)"))?,
            non_success,
            socket_errors,
        })
    }
}

/// A wrk time: a decimal number and a unit, `us`, `ms`, `s`, `m` or `h`
/// (`812.00us`, `1.27ms`, `2.00s`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("time `{text}` has no unit"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("unreadable time `{text}`"))?;
    let micros_per_unit = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return Err(format!("unknown time unit in `{text}`")),
    };
    if !number.is_finite() || number < 0.0 {
        return Err(format!("time `{text}` is not a duration"));
    }
    // wrk prints two decimals, so nanoseconds are more than precise enough.
    Ok(Duration::from_nanos(
        (number * micros_per_unit * 1e3).round() as u64,
    ))
}

/// `connect 0, read 12, write 0, timeout 3`.
fn parse_socket_errors(text: &str) -> Result<SocketErrors, String> {
    let mut errors = SocketErrors::default();
    for part in text.split(',') {
        let (name, count) = part
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("unreadable socket errors `{}`", text.trim()))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("unreadable socket error count `{part}`"))?;
        match name {
            "connect" => errors.connect = count,
            "read" => errors.read = count,
            "write" => errors.write = count,
            "timeout" => errors.timeout = count,
            // A kind this parser does not know still counts as an error.
            _ => errors.read += count,
        }
    }
    Ok(errors)
}

/// One measured run.
struct Sample {
    endpoint: &'static str,
    variant: Variant,
    round: u32,
    report: WrkReport,
    /// The shop's CPU time per request during the run, when measured.
    cpu_per_request: Option<Duration>,
}

/// One endpoint's figures for one variant, over all rounds.
#[derive(Debug, Clone, PartialEq)]
struct VariantFigures {
    /// Median, lowest and highest requests per second across rounds.
    throughput: Spread,
    p50: Duration,
    p99: Duration,
    /// Median CPU time of the shop per request, when measured.
    cpu_per_request: Option<Duration>,
}

/// A median with its range.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        Spread {
            median: median_of_sorted(&values),
            min: values.first().copied().unwrap_or(f64::NAN),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The median of sorted values: the middle one, or the mean of the two
/// middle ones.
fn median_of_sorted(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn median_duration(values: impl Iterator<Item = Duration>) -> Duration {
    let secs = Spread::of(values.map(|d| d.as_secs_f64()).collect()).median;
    Duration::from_secs_f64(if secs.is_finite() { secs } else { 0.0 })
}

/// One endpoint: both variants, and how A compares with B.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    endpoint: &'static str,
    protected: VariantFigures,
    unprotected: VariantFigures,
    /// A/B of the median throughputs, and the range of A/B within rounds.
    throughput_ratio: Spread,
    p50_ratio: f64,
    p99_ratio: f64,
    /// A/B of the median CPU time per request, when both were measured.
    cpu_ratio: Option<f64>,
}

impl Summary {
    fn of(endpoint: &'static str, samples: &[Sample]) -> Result<Summary, String> {
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
    fn verdicts(&self, control: Option<&Summary>) -> [Verdict; 2] {
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
enum Verdict {
    Met,
    NotMet,
    /// The control differs by `noise` (A/B) on this figure: more than the
    /// goal, so this run cannot tell.
    Inconclusive {
        noise: f64,
    },
}

impl Verdict {
    fn describe(self) -> String {
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
fn show_change(ratio: f64) -> String {
    format!("{:+.1} %", (ratio - 1.0) * 100.0)
}

fn render(
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

    /// `wrk --latency -t1 -c4 -d2s` against a small static server.
    const CAPTURED: &str = "\
Running 2s test @ http://127.0.0.1:18081/health
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.43ms   11.81ms  84.67ms   92.36%
    Req/Sec   422.90    130.61   646.00     60.00%
  Latency Distribution
     50%    8.73ms
     75%   12.73ms
     90%   19.50ms
     99%   65.57ms
  843 requests in 2.00s, 166.29KB read
Requests/sec:    420.47
Transfer/sec:     82.94KB
";

    /// The same against a path the server answers with 404.
    const CAPTURED_404: &str = "\
Running 2s test @ http://127.0.0.1:18081/missing
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.03ms    4.63ms  31.36ms   66.91%
    Req/Sec   397.10     71.78   610.00     75.00%
  Latency Distribution
     50%   10.28ms
     75%   12.87ms
     90%   15.65ms
     99%   22.31ms
  791 requests in 2.00s, 401.86KB read
  Non-2xx or 3xx responses: 791
Requests/sec:    394.85
Transfer/sec:    200.60KB
";

    fn ms(x: f64) -> Duration {
        Duration::from_secs_f64(x / 1e3)
    }

    #[test]
    fn a_captured_report_parses() {
        let report = WrkReport::parse(CAPTURED).unwrap();
        assert_eq!(report.requests_per_sec, 420.47);
        assert_eq!(report.requests, 843);
        assert_eq!(report.p50, ms(8.73));
        assert_eq!(report.p75, ms(12.73));
        assert_eq!(report.p90, ms(19.5));
        assert_eq!(report.p99, ms(65.57));
        assert_eq!(report.non_success, 0);
        assert_eq!(report.socket_errors.total(), 0);
    }

    #[test]
    fn non_2xx_answers_are_counted() {
        let report = WrkReport::parse(CAPTURED_404).unwrap();
        assert_eq!(report.non_success, 791);
        assert_eq!(report.p99, ms(22.31));
    }

    #[test]
    fn socket_errors_are_counted() {
        // The line as wrk's printf writes it.
        let text = CAPTURED.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 12, write 1, timeout 3\nRequests/sec:",
        );
        let report = WrkReport::parse(&text).unwrap();
        assert_eq!(
            report.socket_errors,
            SocketErrors {
                connect: 0,
                read: 12,
                write: 1,
                timeout: 3
            }
        );
        assert_eq!(report.socket_errors.total(), 16);
    }

    #[test]
    fn a_report_without_latency_distribution_is_an_error() {
        let text: String = CAPTURED
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Latency "))
            .map(|l| format!("{l}\n"))
            .collect();
        let err = WrkReport::parse(&text).unwrap_err();
        assert!(err.contains("50% latency"), "{err}");
    }

    #[test]
    fn a_refused_connection_is_an_error_not_a_zero() {
        let err = WrkReport::parse("unable to connect to 127.0.0.1:18082 Connection refused\n")
            .unwrap_err();
        assert!(err.contains("Requests/sec"), "{err}");
    }

    #[test]
    fn every_wrk_time_unit_reads() {
        assert_eq!(
            parse_duration("812.00us").unwrap(),
            Duration::from_micros(812)
        );
        assert_eq!(
            parse_duration("1.27ms").unwrap(),
            Duration::from_micros(1270)
        );
        assert_eq!(parse_duration("2.00s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.50m").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.00h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("12.0").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("3.0xs")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(parse_duration("abcms").is_err());
    }

    #[test]
    fn options_have_defaults_and_reject_nonsense() {
        let parse = |args: &[&str]| Options::parse(args.iter().map(|s| s.to_string()));
        assert_eq!(parse(&[]).unwrap(), Options::default());
        let o = parse(&[
            "--rounds",
            "3",
            "--duration",
            "10s",
            "--connections",
            "8",
            "--threads",
            "2",
            "--no-pin",
            "--check",
        ])
        .unwrap();
        assert_eq!(
            o,
            Options {
                rounds: 3,
                duration_secs: 10,
                connections: 8,
                threads: 2,
                pin: false,
                check: true
            }
        );
        assert!(parse(&["--rounds", "0"]).unwrap_err().contains("above 0"));
        assert!(parse(&["--rounds"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--duration", "five"]).unwrap_err().contains("five"));
        assert!(
            parse(&["--connections", "2", "--threads", "4"])
                .unwrap_err()
                .contains("at least --threads")
        );
        assert!(parse(&["--fast"]).unwrap_err().contains("unknown option"));
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_of_sorted(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median_of_sorted(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert!(median_of_sorted(&[]).is_nan());
    }

    fn sample(variant: Variant, round: u32, rps: f64, p99_ms: f64) -> Sample {
        Sample {
            endpoint: "/health",
            variant,
            round,
            report: WrkReport {
                requests_per_sec: rps,
                requests: 1,
                p50: ms(1.0),
                p75: ms(1.5),
                p90: ms(2.0),
                p99: ms(p99_ms),
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

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        // A /proc/<pid>/stat line: utime 1234 and stime 56 are fields 14, 15.
        let stat = "4242 (rasp shop) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 3 0 100 1000000 500";
        assert_eq!(parse_cpu_ticks(stat), Some(1290));
        assert_eq!(parse_cpu_ticks("4242 (short) S 1"), None);
        assert_eq!(parse_cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn this_process_is_found_and_measured_in_proc() {
        // The test process itself: its stat parses, and a tag nobody set
        // is found nowhere.
        assert!(cpu_ticks(std::process::id()).is_some());
        assert_eq!(find_tagged_process("no-such-tag-anywhere"), None);
    }

    #[test]
    fn the_shops_run_through_taskset_only_when_pinned() {
        let binary = Path::new("/t/shop");
        assert_eq!(
            Pinning::Off.server_command(binary),
            (binary.to_owned(), Vec::<String>::new())
        );
        let (program, args) = Pinning::Split { last: 1 }.server_command(binary);
        assert_eq!(program, Path::new("taskset"));
        assert_eq!(args, ["-c", "1", "/t/shop"]);
        assert_eq!(
            Pinning::Split { last: 7 }.server_cpus().as_deref(),
            Some("1-7")
        );
        assert_eq!(Pinning::choose(true, 1).unwrap(), Pinning::Off);
        assert_eq!(Pinning::choose(false, 8).unwrap(), Pinning::Off);
    }
}

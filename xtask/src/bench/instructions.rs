//! `cargo xtask bench --instructions`: what rasp adds to one request, in
//! instructions, counted so that the machine's load cannot move it.
//!
//! Time on a shared machine moves with whatever else runs; the number of
//! instructions a process executes for a request barely moves at all.
//! Each shop build runs under callgrind (valgrind's instruction counter:
//! `perf stat` needs hardware counters that virtual machines often lack)
//! and serves a fixed number of identical requests over one keep-alive
//! connection.
//!
//! Only the connection's own work is counted: callgrind collects while
//! hyper polls the connection future (parsing, rasp's layer, the handler,
//! writing the answer) and nowhere else. Start-up is left out because
//! some of it spins on the clock (a rate limiter's clock calibrates itself
//! for a set time), so its count moves with the machine's speed; the
//! runtime's scheduling and the database's worker thread are left out
//! because they are the same in both builds, and leaving them out of the
//! plain request makes the share rasp adds larger, not smaller. Each
//! build is run twice, with a short and a long series; the difference
//! divided by the difference in requests is the cost of one request
//! alone, so the first requests' one-time costs (lazy set-up, the first
//! connection) fall in both series and cancel.
//!
//! The result is an A/B in one run: instructions per request with rasp
//! (A) and without (B), and the share A adds to B.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::shop::{self, Running, Variant};

/// The goal: rasp adds at most this share of an unprotected request's
/// instructions.
pub(crate) const GOAL_PERCENT: f64 = 2.0;

/// One measured endpoint: a request the shop serves with `200 OK` in both
/// builds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    /// The request target (path and query).
    pub(crate) target: &'static str,
    /// What it exercises, for the report.
    pub(crate) about: &'static str,
}

/// The endpoints measured: the search, where rasp records the query and
/// checks the SQL built from it, and the profile preview, a heavier page
/// (two inputs, a template render and the HTML check of the markup).
pub(crate) const ENDPOINTS: [Endpoint; 2] = [
    Endpoint {
        target: "/search?q=kettle",
        about: "one input, SQL built by `rasp::sql!`, one SQLite query",
    },
    Endpoint {
        target: "/profile?name=Ann%20Lee&bio=I%20like%20green%20tea%20and%20long%20walks",
        about: "two inputs, markup checked by `rasp::html::raw`, an askama page",
    },
];

/// Callgrind collects inside this function only: the poll of one served
/// connection, in both builds.
const CONNECTION_POLL: &str =
    "--toggle-collect=*UpgradeableConnection<I,S,E> as core::future::future::Future>::poll";

/// The instructions of one build for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Count {
    /// Instructions per request: the long series minus the short one,
    /// divided by the difference in requests.
    pub(crate) per_request: f64,
}

/// Both builds for one endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comparison {
    pub(crate) endpoint: Endpoint,
    pub(crate) protected: Count,
    pub(crate) unprotected: Count,
}

impl Comparison {
    /// Instructions rasp adds to one request.
    pub(crate) fn added(&self) -> f64 {
        self.protected.per_request - self.unprotected.per_request
    }

    /// [`Comparison::added`] as a percentage of the unprotected request.
    pub(crate) fn added_percent(&self) -> f64 {
        self.added() / self.unprotected.per_request * 100.0
    }
}

/// Measures every endpoint in both builds, `requests` requests in the long
/// series and a fifth of that in the short one.
pub(crate) fn measure(requests: u32) -> Result<Vec<Comparison>, String> {
    valgrind_version()?;
    let short = (requests / 5).max(1);
    if requests <= short {
        return Err(format!(
            "--requests must be at least 2 for an instruction count, not {requests}"
        ));
    }
    let binaries = [Variant::Protected, Variant::Unprotected]
        .into_iter()
        .map(|variant| shop::build(variant, true).map(|binary| (variant, binary)))
        .collect::<Result<Vec<_>, _>>()?;
    let out_dir = binaries[0]
        .1
        .parent()
        .and_then(Path::parent)
        .ok_or("the shop binary has no folder")?
        .join("callgrind");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let mut comparisons = Vec::new();
    for (index, endpoint) in ENDPOINTS.into_iter().enumerate() {
        let mut counts = [Count { per_request: 0.0 }; 2];
        for (slot, (variant, binary)) in counts.iter_mut().zip(&binaries) {
            // Kept for `callgrind_annotate`: one file per endpoint, build
            // and series.
            let out = |n: u32| out_dir.join(format!("{index}-{}-{n}.out", variant.name()));
            let few = instructions(binary, &endpoint, short, &out(short))?;
            let many = instructions(binary, &endpoint, requests, &out(requests))?;
            *slot = Count {
                per_request: per_request(few, short, many, requests)?,
            };
        }
        comparisons.push(Comparison {
            endpoint,
            protected: counts[0],
            unprotected: counts[1],
        });
    }
    Ok(comparisons)
}

/// Instructions per request from two series: the one-time costs common to
/// both cancel in the difference.
fn per_request(few: u64, short: u32, many: u64, long: u32) -> Result<f64, String> {
    if many <= few {
        return Err(format!(
            "{long} requests counted {many} instructions, no more than {short} requests ({few}): the count is not usable"
        ));
    }
    Ok((many - few) as f64 / f64::from(long - short))
}

/// `valgrind --version`, or why it cannot run.
#[allow(
    clippy::disallowed_methods,
    reason = "runs valgrind with a fixed argument, no untrusted input"
)]
fn valgrind_version() -> Result<String, String> {
    let output = Command::new("valgrind")
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "valgrind is needed to count instructions ({e}); install it (Debian: apt-get install valgrind)"
            )
        })?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs `binary` under callgrind, sends `requests` requests for
/// `endpoint`, stops the shop as Ctrl-C would, and returns the total
/// instructions callgrind counted for the whole process.
fn instructions(
    binary: &Path,
    endpoint: &Endpoint,
    requests: u32,
    out: &Path,
) -> Result<u64, String> {
    let _ = std::fs::remove_file(out);
    let out_arg = format!("--callgrind-out-file={}", out.display());
    let binary_arg = binary.display().to_string();
    let shop = Running::start(
        Path::new("valgrind"),
        &[
            "--tool=callgrind",
            "--quiet",
            "--collect-atstart=no",
            CONNECTION_POLL,
            &out_arg,
            &binary_arg,
            "--port",
            "0",
        ],
        &[],
    )?;
    let served = serve(shop.addr(), endpoint, requests);
    let stopped = shop.interrupt(Duration::from_secs(60));
    served?;
    stopped?;
    total_instructions(out)
}

/// Sends `requests` identical requests over one keep-alive connection and
/// checks each is answered `200 OK`: a refusal or a rate limit would
/// measure a different request.
fn serve(addr: SocketAddr, endpoint: &Endpoint, requests: u32) -> Result<(), String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| format!("cannot set a timeout: {e}"))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: {addr}\r\nx-request-id: bench\r\n\r\n",
        endpoint.target
    );
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("cannot clone the connection: {e}"))?;
    let mut reader = BufReader::new(stream);
    for n in 0..requests {
        writer
            .write_all(request.as_bytes())
            .map_err(|e| format!("cannot send request {n}: {e}"))?;
        let status = read_response(&mut reader)
            .map_err(|e| format!("request {n} for {}: {e}", endpoint.target))?;
        if status != 200 {
            return Err(format!(
                "{} answered {status}, not 200: the builds would not be compared on the same work",
                endpoint.target
            ));
        }
    }
    Ok(())
}

/// Reads one response with a `content-length` body and returns its status.
fn read_response(reader: &mut impl BufRead) -> Result<u16, String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let read = reader
            .read_until(b'\n', &mut head)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        if read == 0 {
            return Err("the connection closed before the answer ended".into());
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    response
        .parse(&head)
        .map_err(|e| format!("unreadable answer: {e}"))?;
    let status = response.code.ok_or("an answer without a status")?;
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .ok_or("an answer without a content-length")?;
    std::io::copy(&mut reader.take(length), &mut std::io::sink())
        .map_err(|e| format!("cannot read the body: {e}"))?;
    Ok(status)
}

/// The `Ir` total of a callgrind output file (its `totals:` or `summary:`
/// line).
fn total_instructions(out: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(out).map_err(|e| {
        format!(
            "callgrind wrote no output at {} ({e}): did the shop exit cleanly?",
            out.display()
        )
    })?;
    parse_total(&text).ok_or_else(|| format!("no instruction total in {}", out.display()))
}

/// The first number of the `totals:` line, else of the `summary:` line.
fn parse_total(text: &str) -> Option<u64> {
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    line("totals:").or_else(|| line("summary:"))
}

/// The report: per endpoint, both builds' instructions per request and
/// what rasp adds, against the goal.
pub(crate) fn render(requests: u32, comparisons: &[Comparison]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ninstructions per request: the example shop with rasp (A) and without (B), release builds under callgrind"
    );
    let _ = writeln!(
        out,
        "{} and {requests} requests per build over one keep-alive connection; per request = the difference / {}",
        (requests / 5).max(1),
        requests - (requests / 5).max(1)
    );
    let _ = writeln!(
        out,
        "\n{:<24} {:>12} {:>12} {:>10} {:>9}  goal",
        "endpoint", "A (rasp)", "B (plain)", "added", "added %"
    );
    for c in comparisons {
        let path = c.endpoint.target.split('?').next().unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<24} {:>12.0} {:>12.0} {:>10.0} {:>8.2} %  {}",
            path,
            c.protected.per_request,
            c.unprotected.per_request,
            c.added(),
            c.added_percent(),
            if c.added_percent() <= GOAL_PERCENT {
                format!("met (≤ {GOAL_PERCENT} %)")
            } else {
                format!("not met (> {GOAL_PERCENT} %)")
            }
        );
    }
    for c in comparisons {
        let _ = writeln!(out, "  {}: {}", c.endpoint.target, c.endpoint.about);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_comes_from_the_totals_line() {
        let text = "events: Ir\nsummary: 1200\nfn=main\n3 4\ntotals: 1234567\n";
        assert_eq!(parse_total(text), Some(1_234_567));
        assert_eq!(parse_total("events: Ir\nsummary: 99\n"), Some(99));
        assert_eq!(parse_total("events: Ir\n"), None);
    }

    #[test]
    fn one_time_costs_cancel_in_the_difference() {
        // 1,000,000 to start, 50,000 per request.
        let few = 1_000_000 + 40 * 50_000;
        let many = 1_000_000 + 200 * 50_000;
        assert_eq!(per_request(few, 40, many, 200), Ok(50_000.0));
        assert!(per_request(many, 40, few, 200).is_err());
    }

    #[test]
    fn a_response_is_read_to_its_end_and_its_status_returned() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n";
        let mut reader = BufReader::new(&raw[..]);
        assert_eq!(read_response(&mut reader), Ok(200));
        assert_eq!(read_response(&mut reader), Ok(403));
        assert!(read_response(&mut reader).is_err());
    }

    #[test]
    fn the_share_added_is_against_the_plain_request() {
        let c = Comparison {
            endpoint: ENDPOINTS[0],
            protected: Count {
                per_request: 55_100.0,
            },
            unprotected: Count {
                per_request: 54_000.0,
            },
        };
        assert_eq!(c.added(), 1_100.0);
        assert!((c.added_percent() - 2.037).abs() < 0.001);
        assert!(render(200, &[c]).contains("not met"));
    }
}

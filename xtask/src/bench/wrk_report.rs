//! wrk's `--latency` text report, read into numbers: throughput, request
//! count, latency percentiles and the error counts.

use std::time::Duration;

/// What one wrk run reported.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WrkReport {
    /// `Requests/sec:`, over the whole run.
    pub(super) requests_per_sec: f64,
    /// Completed requests.
    pub(super) requests: u64,
    /// The latency percentiles of `--latency`: 50 %, 75 %, 90 %, 99 %.
    pub(super) p50: Duration,
    pub(super) p75: Duration,
    pub(super) p90: Duration,
    pub(super) p99: Duration,
    /// `Non-2xx or 3xx responses:`, 0 when the line is absent.
    pub(super) non_success: u64,
    /// `Socket errors:`, all 0 when the line is absent.
    pub(super) socket_errors: SocketErrors,
}

/// wrk's `Socket errors: connect C, read R, write W, timeout T`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct SocketErrors {
    pub(super) connect: u64,
    pub(super) read: u64,
    pub(super) write: u64,
    pub(super) timeout: u64,
}

impl SocketErrors {
    pub(super) fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

impl WrkReport {
    /// Reads wrk's text report (`wrk --latency`, any thread and connection
    /// count). Lines it does not know are skipped, so that a later wrk that
    /// adds lines still parses; a report without throughput, request count
    /// or the 50 % and 99 % percentiles is an error.
    pub(super) fn parse(text: &str) -> Result<WrkReport, String> {
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
}

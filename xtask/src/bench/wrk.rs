//! Running `wrk`: its version, and one run against a URL read into a
//! [`WrkReport`].

use std::process::Command;

use super::pinning::Pinning;
use super::wrk_report::WrkReport;

/// How wrk is run.
pub(super) struct Wrk<'a> {
    pub(super) pinning: &'a Pinning,
    pub(super) connections: u32,
    pub(super) threads: u32,
}

impl Wrk<'_> {
    /// Runs wrk against `url` for `secs` seconds and reads its report;
    /// refuses a run with socket errors or non-2xx answers, which would
    /// measure something other than benign traffic.
    pub(super) fn run(&self, url: &str, secs: u32) -> Result<WrkReport, String> {
        let wrk_args = [
            "--latency".to_owned(),
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{secs}s"),
            url.to_owned(),
        ];
        let output = self
            .pinning
            .wrk_command()
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

/// The first line of `wrk -v`, or a clear error when wrk is missing.
pub(super) fn version() -> Result<String, String> {
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

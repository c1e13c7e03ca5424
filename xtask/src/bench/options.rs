//! The options of `cargo xtask bench` and their parsing.

use lexopt::Arg::Long;
use lexopt::Parser;

use crate::args;

/// Parsed command-line options of `bench`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    pub(super) rounds: u32,
    pub(super) duration_secs: u32,
    pub(super) connections: u32,
    pub(super) threads: u32,
    pub(super) pin: bool,
    pub(super) check: bool,
    /// Count instructions under callgrind instead of loading with wrk.
    pub(super) instructions: bool,
    /// Requests in the long series of an instruction count.
    pub(super) requests: u32,
    /// With `--check` and `--instructions`: the share (in %) of an
    /// unprotected request's instructions above which the check fails.
    pub(super) fail_above: f64,
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
            instructions: false,
            requests: 200,
            fail_above: super::instructions::GOAL_PERCENT,
        }
    }
}

impl Options {
    /// Parses the arguments after `bench`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut options = Options::default();
        while let Some(arg) = args::next(parser)? {
            match arg {
                Long("rounds") => options.rounds = positive(parser, "--rounds")?,
                Long("duration") => options.duration_secs = positive(parser, "--duration")?,
                Long("connections") => options.connections = positive(parser, "--connections")?,
                Long("threads") => options.threads = positive(parser, "--threads")?,
                Long("no-pin") => options.pin = false,
                Long("check") => options.check = true,
                Long("instructions") => options.instructions = true,
                Long("requests") => options.requests = positive(parser, "--requests")?,
                Long("fail-above") => options.fail_above = percent(parser)?,
                other => {
                    return Err(format!(
                        "unknown option `{}` for bench",
                        args::shown(&other)
                    ));
                }
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

/// The value of option `name`: a whole number above 0.
fn positive(parser: &mut Parser, name: &str) -> Result<u32, String> {
    let text = args::value_or(parser, &format!("{name} needs a value"))?;
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
}

/// The value of `--fail-above`: a percentage from 0 to 100.
fn percent(parser: &mut Parser) -> Result<f64, String> {
    let text = args::value_or(parser, "--fail-above needs a value")?;
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "--fail-above must be a percentage from 0 to 100, not `{text}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    #[test]
    fn options_have_defaults_and_reject_nonsense() {
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
                check: true,
                ..Options::default()
            }
        );
        let o = parse(&["--instructions", "--requests", "50", "--fail-above", "3%"]).unwrap();
        assert!(o.instructions);
        assert_eq!((o.requests, o.fail_above), (50, 3.0));
        assert!(
            parse(&["--fail-above", "x"])
                .unwrap_err()
                .contains("percentage")
        );
        assert!(
            parse(&["--fail-above", "120"])
                .unwrap_err()
                .contains("percentage")
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
    fn values_may_be_attached_with_an_equals_sign() {
        let o = parse(&["--rounds=2", "--duration=3s"]).unwrap();
        assert_eq!((o.rounds, o.duration_secs), (2, 3));
    }

    #[test]
    fn stray_words_and_values_on_flags_are_refused() {
        assert_eq!(
            parse(&["fast"]).unwrap_err(),
            "unknown option `fast` for bench"
        );
        assert_eq!(parse(&["-x"]).unwrap_err(), "unknown option `-x` for bench");
        assert_eq!(
            parse(&["--threads"]).unwrap_err(),
            "--threads needs a value"
        );
        assert!(parse(&["--check=yes"]).unwrap_err().contains("--check"));
    }
}

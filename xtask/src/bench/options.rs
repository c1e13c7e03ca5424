//! The options of `cargo xtask bench` and their parsing.

/// Parsed command-line options of `bench`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    pub(super) rounds: u32,
    pub(super) duration_secs: u32,
    pub(super) connections: u32,
    pub(super) threads: u32,
    pub(super) pin: bool,
    pub(super) check: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Which crates to audit and with which features: the options that
//! `audit-sinks` and `policy-check` share, since both read the sink map of
//! the same application through the same harness.

use std::path::PathBuf;

use lexopt::Parser;

use crate::args;

/// Which crates to audit and with which features.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Selection {
    pub(crate) manifest_path: Option<PathBuf>,
    pub(crate) packages: Vec<String>,
    /// `feature` (every selected crate that has it) or `crate/feature`.
    pub(crate) features: Vec<String>,
    pub(crate) all_features: bool,
    pub(crate) no_default_features: bool,
    /// The selection flags as given, in long form, to repeat them in
    /// advice such as the command that refreshes a baseline.
    pub(crate) args: Vec<String>,
}

impl Selection {
    /// Reads the selection option `flag` (as typed: `-p` or `--package`),
    /// taking its value from `parser`; `Ok(false)` when `flag` is not a
    /// selection option.
    pub(crate) fn read(&mut self, flag: &str, parser: &mut Parser) -> Result<bool, String> {
        match flag {
            "--manifest-path" => {
                let path = args::value(parser, flag)?;
                self.args.extend(["--manifest-path".into(), path.clone()]);
                self.manifest_path = Some(path.into());
            }
            "-p" | "--package" => {
                let package = args::value(parser, flag)?;
                self.args.extend(["--package".into(), package.clone()]);
                self.packages.push(package);
            }
            "-F" | "--features" => {
                let features = args::value(parser, flag)?;
                self.args.extend(["--features".into(), features.clone()]);
                self.features.extend(
                    features
                        .split([',', ' '])
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned),
                );
            }
            "--all-features" => {
                self.args.push(flag.to_owned());
                self.all_features = true;
            }
            "--no-default-features" => {
                self.args.push(flag.to_owned());
                self.no_default_features = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

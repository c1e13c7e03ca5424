//! Which CPUs run `wrk` and which the shops, and the `taskset` command
//! lines that put them there.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Which CPUs the shops and wrk run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pinning {
    /// Not pinned: the scheduler places everything.
    Off,
    /// wrk on CPU 0, the shops on CPUs 1 to `last`.
    Split { last: usize },
}

impl Pinning {
    pub(super) fn choose(wanted: bool, cpus: usize) -> Result<Pinning, String> {
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
    pub(super) fn server_command(&self, binary: &Path) -> (PathBuf, Vec<String>) {
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

    /// The command that runs wrk on wrk's CPU; its arguments follow.
    #[allow(
        clippy::disallowed_methods,
        reason = "runs wrk (through taskset) with arguments built in this module"
    )]
    pub(super) fn wrk_command(&self) -> Command {
        match self {
            Pinning::Off => Command::new("wrk"),
            Pinning::Split { .. } => {
                let mut command = Command::new("taskset");
                command.args(["-c", "0", "wrk"]);
                command
            }
        }
    }

    pub(super) fn describe(&self, cpus: usize) -> String {
        match self.server_cpus() {
            None if cpus < 2 => format!("not pinned ({cpus} CPU)"),
            None => format!("not pinned ({cpus} CPUs)"),
            Some(server) => format!("shops on CPU {server}, wrk on CPU 0 ({cpus} CPUs)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

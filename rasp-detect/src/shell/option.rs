//! Option injection into an argument vector.
//!
//! A program run without a shell receives each argument as it is: no input
//! can add a word or an operator there. What an input can still do is start
//! an argument with `-`, so that the program reads an option where the
//! application meant an operand — `--output=/etc/cron.d/x` for a file name,
//! `-oProxyCommand=…` for a host name. This detector flags an occurrence of
//! the input at the very start of an argument when the input starts with
//! `-`. An input placed after a prefix the application wrote
//! (`--name={input}`) is the value of the application's option and is not
//! flagged.

use crate::Needle;
#[cfg(test)]
use memchr::memmem::Finder;

use crate::{Finding, Reason};

/// Whether the input searched by `finder` starts the argument `arg` with a
/// `-`, so that the program reads it as an option.
///
/// Costs one prefix comparison; never allocates.
#[inline]
pub fn detect_option(arg: &[u8], finder: &dyn Needle) -> Option<Finding> {
    let needle = finder.needle();
    (needle.first() == Some(&b'-') && arg.starts_with(needle)).then_some(Finding {
        offset: 0,
        reason: Reason::OptionInjection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(arg: &str, input: &str) -> Option<Reason> {
        detect_option(arg.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    #[test]
    fn flags_inputs_that_start_an_argument_with_a_dash() {
        assert_eq!(
            reason("--output=/tmp/x", "--output=/tmp/x"),
            Some(Reason::OptionInjection)
        );
        assert_eq!(reason("-rf", "-rf"), Some(Reason::OptionInjection));
        assert_eq!(reason("-n.txt", "-n"), Some(Reason::OptionInjection));
    }

    #[test]
    fn allows_operands_and_option_values() {
        assert_eq!(reason("report-1.txt", "report-1.txt"), None);
        assert_eq!(reason("--name=-x", "-x"), None);
        assert_eq!(reason("a -b", "-b"), None);
        assert_eq!(reason("", "-"), None);
    }
}

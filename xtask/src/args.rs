//! What the commands' option parsers share: lexopt's arguments and errors
//! turned into the plain messages `main` prints before exiting with 2.

use lexopt::{Arg, Parser, ValueExt as _};

/// The next argument. lexopt's own refusals, such as a value attached to
/// a flag that takes none (`--check=yes`) or a name that is not UTF-8,
/// come back as text.
pub(crate) fn next(parser: &mut Parser) -> Result<Option<Arg<'_>>, String> {
    parser.next().map_err(|e| e.to_string())
}

/// The value of option `flag`, just read (`--flag VALUE` or
/// `--flag=VALUE`).
pub(crate) fn value(parser: &mut Parser, flag: &str) -> Result<String, String> {
    value_or(parser, &format!("`{flag}` needs a value"))
}

/// The value of the option just read; `missing` is the error when the
/// arguments end before it.
pub(crate) fn value_or(parser: &mut Parser, missing: &str) -> Result<String, String> {
    match parser.value() {
        Ok(value) => value.string().map_err(|e| e.to_string()),
        Err(lexopt::Error::MissingValue { .. }) => Err(missing.to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// An argument as it was typed, to name it in an error.
pub(crate) fn shown(arg: &Arg<'_>) -> String {
    match arg {
        Arg::Short(c) => format!("-{c}"),
        Arg::Long(name) => format!("--{name}"),
        Arg::Value(value) => value.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_separate_or_attached() {
        let mut parser = Parser::from_args(["--a", "1", "--b=2", "--c"]);
        assert_eq!(next(&mut parser).unwrap(), Some(Arg::Long("a")));
        assert_eq!(value(&mut parser, "--a").unwrap(), "1");
        assert_eq!(next(&mut parser).unwrap(), Some(Arg::Long("b")));
        assert_eq!(value_or(&mut parser, "no b").unwrap(), "2");
        assert_eq!(next(&mut parser).unwrap(), Some(Arg::Long("c")));
        assert_eq!(
            value(&mut parser, "--c").unwrap_err(),
            "`--c` needs a value"
        );
    }

    #[test]
    fn a_value_for_a_plain_flag_is_an_error() {
        let mut parser = Parser::from_args(["--check=yes"]);
        assert_eq!(next(&mut parser).unwrap(), Some(Arg::Long("check")));
        assert!(next(&mut parser).unwrap_err().contains("--check"));
    }

    #[test]
    fn arguments_are_shown_as_typed() {
        let mut parser = Parser::from_args(["-x", "--fast", "file"]);
        let mut seen = Vec::new();
        while let Some(arg) = next(&mut parser).unwrap() {
            seen.push(shown(&arg));
        }
        assert_eq!(seen, ["-x", "--fast", "file"]);
    }
}

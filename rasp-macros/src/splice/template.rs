//! The template of a span-exact macro, read as `format!` reads its own:
//! `{}` (the next positional argument), `{0}` (by position), `{name}` (a
//! named argument, or a variable in scope), and `{{`/`}}` for braces.
//! Format specs (`{:>8}`) are refused: an argument is written as it is,
//! so the span the check judges is exactly the value.

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text of the template, braces unescaped.
    Literal(String),
    /// The next positional argument.
    Next,
    /// A positional argument by index.
    Index(usize),
    /// A named argument, or a variable captured from the scope.
    Name(String),
}

/// Reads `template` into pieces, or says what is wrong with it.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '}' => return Err("unmatched `}` in the template; write `}}` for a brace".into()),
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => {
                            return Err(
                                "unclosed `{` in the template; write `{{` for a brace".into()
                            );
                        }
                        Some(c) => inner.push(c),
                    }
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(core::mem::take(&mut literal)));
                }
                pieces.push(placeholder(inner.trim())?);
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// What one `{…}` names.
fn placeholder(inner: &str) -> Result<Piece, String> {
    if inner.contains(':') {
        return Err(format!(
            "`{{{inner}}}`: format specs are not supported; an argument is written as it is, so its span is exactly its value"
        ));
    }
    if inner.is_empty() {
        return Ok(Piece::Next);
    }
    if let Ok(index) = inner.parse::<usize>() {
        return Ok(Piece::Index(index));
    }
    let mut chars = inner.chars();
    let starts_well = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic());
    if starts_well && chars.all(|c| c == '_' || c.is_alphanumeric()) {
        return Ok(Piece::Name(inner.to_owned()));
    }
    Err(format!(
        "`{{{inner}}}` is not an argument: write `{{}}`, `{{0}}` or `{{name}}`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Piece::*;

    fn lit(s: &str) -> Piece {
        Literal(s.to_owned())
    }

    #[test]
    fn reads_what_format_reads() {
        assert_eq!(
            parse("SELECT {} FROM t WHERE a = '{name}' AND b = {0} {{x}}").unwrap(),
            [
                lit("SELECT "),
                Next,
                lit(" FROM t WHERE a = '"),
                Name("name".into()),
                lit("' AND b = "),
                Index(0),
                lit(" {x}")
            ]
        );
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse("{}{}").unwrap(), [Next, Next]);
    }

    #[test]
    fn refuses_what_it_cannot_span() {
        assert!(parse("{:>8}").unwrap_err().contains("format specs"));
        assert!(parse("a } b").unwrap_err().contains("unmatched"));
        assert!(parse("a { b").unwrap_err().contains("unclosed"));
        assert!(parse("{a-b}").unwrap_err().contains("not an argument"));
    }
}

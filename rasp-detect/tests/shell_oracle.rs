//! The shell detector against real shells.
//!
//! Generated inputs are spliced into realistic templates (an unquoted word,
//! single and double quotes, after `=`, a here-document, scripts a second
//! shell parses, bash arithmetic, awk and sed programs) and each case is
//! labelled by running it: under bash, in a scratch directory, with `env -i`
//! and a `PATH` holding only marker commands that log the argument vector
//! they receive (and, for `cat`, their standard input) plus the real shells,
//! `awk`, `sed`, `xargs`, `find` and `env`. The input is an attack when,
//! compared with a neutral placeholder in its place,
//!
//! - the commands that ran, or the number of arguments one of them got,
//!   change, a syntax error appears or goes away, or a file is written in
//!   the working directory;
//! - what the commands received depends on the environment: the same run
//!   in a second sandbox with another `HOME`, other values for every
//!   variable the input names, other positional parameters and an empty
//!   working directory (the first holds files that globs match) differs;
//! - a tilde the input wrote is gone from what the commands received
//!   (`~root` expands the same in both sandboxes).
//!
//! An input the detector reports as an option (`-x` where a program reads
//! options) changes none of that; such cases are counted apart.
//!
//! `RASP_ORACLE_CASES` sets the number of cases (default 400, a few seconds
//! in debug), `RASP_ORACLE_SEED` the generator's seed; the test needs
//! `bash` and `dash` and skips with a message without them.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use memchr::memmem::Finder;
use rasp_detect::Reason;

const PLACEHOLDER: &str = "Qz7plc";

/// Templates; `{}` is where the input goes.
const TEMPLATES: &[&str] = &[
    // An unquoted word.
    "prog {}",
    "prog -v {} out.txt",
    "cat ./{}",
    "prog --name={}",
    "prog pre{}post",
    "{} -la",
    "A=1 {} x",
    "x={}; prog \"$x\"",
    // Quoted by the application.
    "prog '{}'",
    "prog 'a {} b'",
    "prog \"{}\"",
    "prog \"pre {} post\"",
    "prog --msg=\"{}\"",
    // Here-documents.
    "cat <<EOF\n{}\nEOF\n",
    "cat <<'EOF'\n{}\nEOF\n",
    // Parsed twice.
    "sh -c 'prog {}'",
    "bash -c \"prog {}\"",
    "sh -c \"prog '{}'\"",
    "bash -c 'prog \"{}\"'",
    "eval \"prog {}\"",
    "eval 'prog {}'",
    "env A=1 sh -c 'prog {}'",
    "xargs sh -c 'prog {}' </dev/null",
    "find . -maxdepth 0 -exec sh -c 'prog {}' \\;",
    // Bash arithmetic.
    "[[ 1 -eq '{}' ]] && prog ok",
    "(( x = {} )); prog ok",
    "let 'x={}'; prog ok",
    "declare -i x='{}'; prog ok",
    "prog $(( {} ))",
    // Program text.
    "awk 'BEGIN{print \"{}\"}' | prog",
    "printf 'a\\n' | sed 's/a/{}/' | prog",
];

/// Pieces an input is made of: data, and the syntax attacks are made of.
const PIECES: &[&str] = &[
    "report-1.txt",
    "a",
    "b",
    "x",
    "O'Brien",
    "R&D",
    "50%",
    "v1.2",
    "a b",
    "foo_bar",
    "2024-01-01",
    "hello world",
    "caf\u{e9}",
    "id",
    "rm",
    "ls",
    ";",
    "|",
    "&&",
    "||",
    "&",
    "$(",
    ")",
    "(",
    "`",
    "'",
    "\"",
    "\\",
    " ",
    "\n",
    "$HOME",
    "${HOME}",
    "$1",
    "$x",
    "$$",
    "~",
    "~root",
    "/",
    "*",
    "?",
    "[ab]",
    "{a,b}",
    "#",
    ">",
    "<",
    "=",
    ":",
    "-x",
    "--all",
    "a[$(id)]",
    "$(id)",
    "`id`",
    "; id",
    "| id",
    "' ; id '",
    "\" ; id \"",
    "$((1+1))",
    "\");system(\"id\");(\"",
    "/e",
    "/w w.txt",
    "\\n",
    "EOF",
    "$'a'",
    "'\\''",
    ",",
];

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .and_then(|p| fs::canonicalize(p).ok())
}

/// A deterministic generator (xorshift), so that a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn input(rng: &mut Rng) -> String {
    let pieces = 1 + rng.below(4);
    let mut s = String::new();
    for _ in 0..pieces {
        s.push_str(PIECES[rng.below(PIECES.len())]);
    }
    s
}

/// What one run of a script did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Outcome {
    /// Each command that ran: its name and its arguments (for `cat`, its
    /// standard input last).
    commands: Vec<(String, Vec<String>)>,
    /// Names the shell could not find.
    not_found: Vec<String>,
    syntax_error: bool,
    /// An arithmetic error, which makes a non-interactive bash give up
    /// the rest of the script: fewer commands run, none is added.
    arith_error: bool,
    /// Files the run left in the working directory.
    new_files: Vec<String>,
}

impl Outcome {
    fn shape(&self) -> Vec<(String, usize)> {
        self.commands
            .iter()
            .map(|(name, args)| (name.clone(), args.len()))
            .collect()
    }

    fn tildes(&self) -> usize {
        self.commands
            .iter()
            .flat_map(|(_, args)| args)
            .map(|a| a.matches('~').count())
            .sum()
    }
}

struct Sandbox {
    bin: PathBuf,
    home: [PathBuf; 2],
    work: [PathBuf; 2],
    seeded: Vec<String>,
    log: PathBuf,
    bash_env: PathBuf,
    bash: PathBuf,
    timeout: PathBuf,
}

const FAKE: &str = "#!/bin/sh\n\
{ printf '%s\\036' \"${0##*/}\"; for a; do printf '%s\\037' \"$a\"; done;\n\
  if [ \"${0##*/}\" = cat ]; then printf '\\036'; tr -d '\\000'; fi; printf '\\035'; } >> \"$RASP_ORACLE_LOG\"\n";

const MARKERS: &[&str] = &[
    "prog", "cat", "id", "rm", "ls", "whoami", "touch", "curl", "wget", "nc", "uname", "sleep",
    "tr",
];

impl Sandbox {
    fn new(root: &Path, bash: PathBuf, dash: PathBuf) -> Sandbox {
        let bin = root.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let fake = root.join("fake");
        fs::write(
            &fake,
            FAKE.replace("#!/bin/sh", &format!("#!{}", dash.display())),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        for name in MARKERS {
            if *name == "tr" {
                continue;
            }
            std::os::unix::fs::symlink(&fake, bin.join(name)).unwrap();
        }
        let real = |name: &str, path: Option<PathBuf>| {
            if let Some(path) = path {
                std::os::unix::fs::symlink(path, bin.join(name)).unwrap();
            }
        };
        real("sh", Some(dash.clone()));
        real("dash", Some(dash));
        real("bash", Some(bash.clone()));
        for tool in ["awk", "sed", "xargs", "find", "env", "tr"] {
            real(tool, which(tool));
        }
        let home = [root.join("homeA"), root.join("homeB")];
        let work = [root.join("workA"), root.join("workB")];
        for d in home.iter().chain(&work) {
            fs::create_dir_all(d).unwrap();
        }
        // Files the globs of the generated inputs match in the first
        // sandbox only.
        let seeded: Vec<String> = ["a", "b", "x", "1", "report-1.txt", "ab.txt", "Qz7plc.d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for f in &seeded {
            fs::write(work[0].join(f), "").unwrap();
        }
        let bash_env = root.join("bash_env");
        fs::write(
            &bash_env,
            "command_not_found_handle() { printf 'NOTFOUND:%s\\n' \"$1\" >&2; return 127; }\n\
             echo() { prog echo \"$@\"; }\n",
        )
        .unwrap();
        Sandbox {
            bin,
            home,
            work,
            seeded,
            log: root.join("log"),
            bash_env,
            bash,
            timeout: which("timeout").expect("checked before"),
        }
    }

    /// Runs `script` under bash in sandbox `which` (0 or 1).
    #[allow(
        clippy::disallowed_methods,
        reason = "the oracle runs the shell itself"
    )]
    fn run(&self, script: &str, which: usize, names: &[String]) -> Outcome {
        let _ = fs::remove_file(&self.log);
        let mut cmd = Command::new(&self.timeout);
        cmd.args(["-s", "KILL", "5"])
            .arg(&self.bash)
            .arg("-c")
            .arg(script)
            .arg(["shA", "shB"][which]);
        if which == 0 {
            cmd.args(["pA1", "pA2"]);
        }
        cmd.env_clear()
            .env("PATH", &self.bin)
            .env("HOME", &self.home[which])
            .env("BASH_ENV", &self.bash_env)
            .env("RASP_ORACLE_LOG", &self.log)
            .env("LC_ALL", "C.UTF-8");
        for name in names {
            cmd.env(name, format!("v{which}_{name}"));
        }
        let out = cmd
            .current_dir(&self.work[which])
            .stdin(Stdio::null())
            .output()
            .expect("bash runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut outcome = Outcome {
            // Parse errors of bash and dash; not arithmetic errors, which
            // stop one command and change no structure.
            syntax_error: stderr.contains("syntax error near")
                || stderr.contains("unexpected EOF")
                || stderr.contains("unexpected end of file")
                || stderr.contains("Syntax error")
                || stderr.contains("bad substitution"),
            arith_error: [
                "operand expected",
                "syntax error in expression",
                "invalid arithmetic operator",
                "recursion level exceeded",
                "division by 0",
                "value too great",
                "invalid number",
                "non-variable",
                "syntax error: invalid",
                "missing `)'",
                "bad array subscript",
            ]
            .iter()
            .any(|m| stderr.contains(m)),
            ..Outcome::default()
        };
        for line in stderr.lines() {
            if let Some(name) = line.strip_prefix("NOTFOUND:") {
                outcome.not_found.push(name.to_string());
            } else if let Some(rest) = line.strip_suffix(": not found") {
                outcome
                    .not_found
                    .push(rest.rsplit(": ").next().unwrap_or("").to_string());
            }
        }
        let log = fs::read(&self.log).unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        for record in log.split('\u{1d}').filter(|r| !r.is_empty()) {
            let mut fields = record.split('\u{1e}');
            let name = fields.next().unwrap_or("").to_string();
            let mut args: Vec<String> = fields
                .next()
                .unwrap_or("")
                .split('\u{1f}')
                .map(str::to_string)
                .collect();
            args.pop();
            if let Some(stdin) = fields.next() {
                args.push(stdin.to_string());
            }
            outcome.commands.push((name, args));
        }
        for entry in fs::read_dir(&self.work[which]).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if which == 1 || !self.seeded.contains(&name) {
                outcome.new_files.push(name);
                let _ = fs::remove_file(entry.path());
            }
        }
        outcome
    }
}

/// Names of variables an input reads, so both sandboxes set them apart.
fn variable_names(input: &str) -> Vec<String> {
    const KEEP: &[&str] = &[
        "PATH",
        "IFS",
        "HOME",
        "BASH_ENV",
        "RASP_ORACLE_LOG",
        "PS4",
        "SHELLOPTS",
        "BASHOPTS",
        "ENV",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "LC_ALL",
        "_",
    ];
    let mut names = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name = &input[start..i];
            if !KEEP.contains(&name) && !name.starts_with("BASH") && !name.starts_with("LD_") {
                names.push(name.to_string());
            }
        } else {
            i += 1;
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The oracle's label, or `None` when the template itself depends on the
/// sandbox (nothing to compare against).
fn oracle(
    sandbox: &Sandbox,
    template: &str,
    input: &str,
    cache: &mut HashMap<String, [Outcome; 2]>,
) -> Option<bool> {
    let base = cache
        .entry(template.to_string())
        .or_insert_with(|| {
            let script = template.replace("{}", PLACEHOLDER);
            [sandbox.run(&script, 0, &[]), sandbox.run(&script, 1, &[])]
        })
        .clone();
    if base[0].commands != base[1].commands {
        return None;
    }
    let names = variable_names(input);
    let script = template.replace("{}", input);
    let b = sandbox.run(&script, 1, &names);
    let cut = b.arith_error && !base[1].arith_error;
    let (shape, base_shape) = (b.shape(), base[1].shape());
    let commands_changed = if cut {
        !base_shape.starts_with(&shape) || !base[1].not_found.starts_with(&b.not_found)
    } else {
        shape != base_shape || b.not_found != base[1].not_found
    };
    let structure = commands_changed
        || b.syntax_error != base[1].syntax_error
        || b.new_files != base[1].new_files;
    if structure {
        return Some(true);
    }
    let a = sandbox.run(&script, 0, &names);
    if a.commands != b.commands || a.new_files.len() != b.new_files.len() {
        return Some(true);
    }
    let expected_tildes =
        base[1].tildes() + input.matches('~').count() * template.matches("{}").count();
    Some(!cut && b.tildes() < expected_tildes)
}

#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    agree: usize,
    detector_only: usize,
    oracle_only: usize,
    options: usize,
    skipped: usize,
    samples: Vec<String>,
}

#[test]
fn detector_agrees_with_real_shells() {
    let (Some(bash), Some(dash)) = (which("bash"), which("dash")) else {
        eprintln!("skipped: bash and dash are needed for the shell oracle");
        return;
    };
    if which("timeout").is_none() {
        eprintln!("skipped: `timeout` is needed for the shell oracle");
        return;
    }
    let cases: usize = std::env::var("RASP_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("RASP_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_5e11);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1)
        * 2;
    let root = std::env::temp_dir().join(format!("rasp-shell-oracle-{}", std::process::id()));
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (next, tally, root, bash, dash) = (
                next.clone(),
                tally.clone(),
                root.join(w.to_string()),
                bash.clone(),
                dash.clone(),
            );
            scope.spawn(move || {
                let sandbox = Sandbox::new(&root, bash, dash);
                let mut cache = HashMap::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= cases {
                        break;
                    }
                    let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
                    rng.next();
                    let template = TEMPLATES[rng.below(TEMPLATES.len())];
                    let input = input(&mut rng);
                    let text = template.replace("{}", &input);
                    let found =
                        rasp_detect::shell::detect(text.as_bytes(), &Finder::new(input.as_bytes()));
                    let label = oracle(&sandbox, template, &input, &mut cache);
                    let mut t = tally.lock().unwrap();
                    t.cases += 1;
                    let Some(attack) = label else {
                        t.skipped += 1;
                        continue;
                    };
                    match (attack, found) {
                        (true, Some(_)) | (false, None) => t.agree += 1,
                        // By rule, not by what a shell does: an option, and
                        // any token of a program's own code.
                        (false, Some(f))
                            if f.reason == Reason::OptionInjection
                                || (f.reason == Reason::ChoosesCommand
                                    && (template.starts_with("awk")
                                        || template.contains("sed"))) =>
                        {
                            t.options += 1
                        }
                        (false, Some(f)) => {
                            t.detector_only += 1;
                            if t.samples.len() < 40 {
                                t.samples.push(format!(
                                    "detector-only {:?}: {input:?} in {template:?}",
                                    f.reason
                                ));
                            }
                        }
                        (true, _) => {
                            t.oracle_only += 1;
                            if t.samples.len() < 40 {
                                t.samples
                                    .push(format!("oracle-only: {input:?} in {template:?}"));
                            }
                        }
                    }
                }
            });
        }
    });
    let _ = fs::remove_dir_all(&root);
    let t = tally.lock().unwrap();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "shell oracle: {} cases in {secs:.1} s ({:.0}/s): {} agree, {} detector-only, {} oracle-only, {} options (detector-only by rule), {} skipped",
        t.cases,
        t.cases as f64 / secs,
        t.agree,
        t.detector_only,
        t.oracle_only,
        t.options,
        t.skipped
    );
    for s in &t.samples {
        eprintln!("  {s}");
    }
    let judged = (t.cases - t.skipped).max(1) as f64;
    assert!(
        t.oracle_only as f64 / judged <= 0.02,
        "the detector misses attacks a real shell confirms"
    );
    // Detector-only flags are the rule's, where a real run shows no
    // effect: an operator with nothing after it (`x &`, `x;`), a glob
    // that matches no file, `$((1+1))`.
    assert!(
        t.detector_only as f64 / judged <= 0.15,
        "the detector flags inputs a real shell reads as data"
    );
}

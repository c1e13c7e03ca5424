//! How a program reads its arguments: which one it runs, which it
//! interprets as code, which are options and which are data.
//!
//! Many programs run a command written in their own arguments:
//! `timeout 5 CMD`, `nice -n 5 CMD`, `env A=1 CMD`, `xargs -0 CMD`,
//! `sudo -u app CMD`, `ssh HOST CMD…`, `find . -exec CMD {} ;`. Others
//! interpret an argument as program text: `sh -c SCRIPT`, `python3 -c`,
//! `perl -e`, `awk PROGRAM`, `sed SCRIPT`, `tar --to-command=CMD`,
//! `git -c core.sshCommand=CMD`, `rsync -e CMD`, `ssh -o ProxyCommand=CMD`.
//! An input in one of those positions decides what runs, however well it
//! is quoted, so it is an injection although it is one word.
//!
//! [`ExecReader`] follows an argument vector word by word with a table of
//! such programs (looked up by the basename of the program, version
//! suffixes dropped: `/usr/bin/python3.12` is `python`) and gives each word
//! its [`Role`]. For each program the table says which options take a
//! value (`timeout -s KILL`), which options take code or a program
//! (`perl -e`, `tar -I`), and what its operands are: data, a count of data
//! operands before the wrapped command (`timeout DURATION`, `chroot DIR`,
//! `flock FILE`), a host before a remote shell command (`ssh`), the program
//! text (`awk`, `sed`, interpreters, shells), old-style option clusters
//! (`tar cvf`, `ps aux`) or a subcommand (`git`). Options are read the
//! getopt way: clusters (`-pe`), attached values (`-n5`, `--signal=KILL`),
//! and `--`, after which every word is an operand. A wrapped command is
//! read again with its own entry, so wrappers of wrappers
//! (`sudo nice timeout 5 CMD`) are followed to the end, up to
//! [`MAX_WRAPPERS`] deep; past it every word counts as code.
//!
//! The reader never allocates and is `Copy`: the shell detector keeps one
//! per command list of a script, the process guard one per argument
//! vector.

/// How many wrapped commands one command line may chain
/// (`sudo nice timeout 5 env CMD` chains four). Past this, every further
/// word is read as code, so an input there is refused rather than missed.
pub const MAX_WRAPPERS: u8 = 8;

/// What a program does with one word of its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Names the program that runs, a script file or module it loads, or
    /// a subcommand: an input here chooses what runs.
    Command,
    /// Program text in a language other than the shell (awk, sed, Perl,
    /// Python …) or a setting that names a command to run: an input
    /// anywhere in it is code.
    Code,
    /// An option whose attached value, from byte `at` on, is code
    /// (`--to-command=CMD`, `-oProxyCommand=CMD`, `-eprint 1`).
    OptionCode {
        /// Offset in the word where the code starts.
        at: usize,
    },
    /// A command line that a shell reads (`sh -c SCRIPT`, the remote
    /// command of `ssh`, `eval`, `env -S`): judged as shell text.
    ShellCode,
    /// An option or option cluster of the program (`-la`, `--output=x`,
    /// `tar`'s `cvf`, `ps`'s `aux`), or the `--` that ends them.
    Option,
    /// The value of an option (`5` in `nice -n 5`): data.
    Value,
    /// An operand, an assignment, a positional parameter or a shell
    /// keyword: data.
    Operand,
}

/// What the operands of a program are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operands {
    /// Data.
    Data,
    /// `skip` data operands, then the wrapped command and its arguments.
    Command(u8),
    /// `skip` data operands, then a shell command line (every word).
    ShellCode(u8),
    /// The first operand is the program text or script file (unless an
    /// option gave the program); the rest are the program's arguments.
    /// For a shell they are positional parameters, never options.
    Program {
        /// A POSIX shell: its program is shell text.
        shell: bool,
    },
    /// Every operand is an option cluster (`ps aux`).
    Clusters,
    /// The first operand may be an old-style option cluster (`tar cvf`).
    FirstCluster,
    /// The first operand is a subcommand (`git clone`).
    Subcommand,
    /// `find`: paths, then an expression whose `-exec` runs a command.
    Find,
}

/// One program's entry in the table.
#[derive(Debug)]
struct Spec {
    /// Options followed by a data value.
    values: &'static [&'static str],
    /// Options followed by program text, a program or a command setting.
    code: &'static [&'static str],
    /// Options followed by a shell command line.
    shell_code: &'static [&'static str],
    /// Letters of an old-style cluster that take the next word as a value
    /// and as a program (`tar cf FILE`, `tar cIf PROG FILE`).
    cluster_values: &'static [u8],
    cluster_code: &'static [u8],
    operands: Operands,
    /// `NAME=value` words before the command are assignments (`env`,
    /// `sudo`).
    assignments: bool,
    /// Options may also start with `+` (`sh +x`).
    plus: bool,
}

const GENERIC: Spec = Spec {
    values: &[],
    code: &[],
    shell_code: &[],
    cluster_values: &[],
    cluster_code: &[],
    operands: Operands::Data,
    assignments: false,
    plus: false,
};

const fn wrapper(values: &'static [&'static str], skip: u8) -> Spec {
    Spec {
        values,
        operands: Operands::Command(skip),
        ..GENERIC
    }
}

const fn interpreter(values: &'static [&'static str], code: &'static [&'static str]) -> Spec {
    Spec {
        values,
        code,
        operands: Operands::Program { shell: false },
        ..GENERIC
    }
}

const TIMEOUT: Spec = wrapper(&["-s", "--signal", "-k", "--kill-after"], 1);
const NICE: Spec = wrapper(&["-n", "--adjustment"], 0);
const NOHUP: Spec = wrapper(&[], 0);
const TIME: Spec = wrapper(&["-f", "--format", "-o", "--output"], 0);
const EXEC: Spec = wrapper(&["-a"], 0);
const ENV: Spec = Spec {
    values: &["-u", "--unset", "-C", "--chdir", "-a", "--argv0"],
    shell_code: &["-S", "--split-string"],
    assignments: true,
    ..wrapper(&[], 0)
};
const SUDO: Spec = Spec {
    assignments: true,
    ..wrapper(
        &[
            "-u",
            "--user",
            "-g",
            "--group",
            "-h",
            "--host",
            "-p",
            "--prompt",
            "-C",
            "--close-from",
            "-D",
            "--chdir",
            "-r",
            "--role",
            "-t",
            "--type",
            "-U",
            "--other-user",
            "-T",
            "--command-timeout",
        ],
        0,
    )
};
const DOAS: Spec = wrapper(&["-u", "-C"], 0);
const PKEXEC: Spec = wrapper(&["--user"], 0);
const XARGS: Spec = wrapper(
    &[
        "-a",
        "--arg-file",
        "-d",
        "--delimiter",
        "-E",
        "-I",
        "-L",
        "-n",
        "--max-args",
        "-P",
        "--max-procs",
        "-s",
        "--max-chars",
        "--process-slot-var",
    ],
    0,
);
const STDBUF: Spec = wrapper(&["-i", "-o", "-e", "--input", "--output", "--error"], 0);
const IONICE: Spec = wrapper(
    &[
        "-c",
        "--class",
        "-n",
        "--classdata",
        "-p",
        "--pid",
        "-P",
        "--pgid",
        "-u",
        "--uid",
    ],
    0,
);
const CHROOT: Spec = wrapper(&["--userspec", "--groups"], 1);
const FLOCK: Spec = Spec {
    shell_code: &["-c", "--command"],
    ..wrapper(
        &["-w", "--wait", "--timeout", "-E", "--conflict-exit-code"],
        1,
    )
};
const CHRT: Spec = wrapper(&[], 1);
const TASKSET: Spec = wrapper(&[], 1);
const STRACE: Spec = wrapper(
    &[
        "-o", "-e", "-p", "-s", "-u", "-a", "-b", "-E", "-I", "-O", "-P", "-S", "-X",
    ],
    0,
);
const PROXYCHAINS: Spec = wrapper(&["-f"], 0);
const SYSTEMD_RUN: Spec = wrapper(
    &[
        "-u",
        "--unit",
        "-p",
        "--property",
        "-M",
        "--machine",
        "-H",
        "--host",
        "-E",
        "--setenv",
        "--uid",
        "--gid",
        "--working-directory",
        "--description",
        "--slice",
    ],
    0,
);
const SU: Spec = Spec {
    values: &[
        "-g",
        "--group",
        "-G",
        "--supp-group",
        "-w",
        "--whitelist-environment",
    ],
    code: &["-s", "--shell"],
    shell_code: &["-c", "--command", "--session-command"],
    ..GENERIC
};
const SCRIPT: Spec = Spec {
    values: &[
        "-E",
        "--echo",
        "-I",
        "--log-in",
        "-O",
        "--log-out",
        "-B",
        "--log-io",
        "-T",
        "--log-timing",
        "-m",
        "--logging-format",
        "-o",
        "--output-limit",
    ],
    shell_code: &["-c", "--command"],
    ..GENERIC
};
/// Programs whose every argument is a command line: `eval`, `watch` (joins
/// its arguments for `sh -c`), `cmd /c`, `powershell -Command`.
const SHELL_TEXT: Spec = Spec {
    operands: Operands::ShellCode(0),
    ..GENERIC
};
const WATCH: Spec = Spec {
    values: &["-n", "--interval", "-q", "--equexit"],
    operands: Operands::ShellCode(0),
    ..GENERIC
};
const CMD: Spec = Spec {
    // `cmd /c`, `powershell -Command`: every argument may be the command.
    values: &[],
    ..SHELL_TEXT
};
const BUSYBOX: Spec = wrapper(&[], 0);
const SSH: Spec = Spec {
    values: &[
        "-B", "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-p",
        "-Q", "-R", "-S", "-W", "-w",
    ],
    code: &["-o"],
    operands: Operands::ShellCode(1),
    ..GENERIC
};
const SCP: Spec = Spec {
    values: &["-c", "-F", "-i", "-l", "-P", "-J", "-D", "-X", "-B", "-R"],
    code: &["-o", "-S"],
    ..GENERIC
};
const RSYNC: Spec = Spec {
    values: &[
        "-f",
        "--filter",
        "--exclude",
        "--include",
        "--exclude-from",
        "--include-from",
        "--files-from",
        "-T",
        "--temp-dir",
        "--log-file",
        "--password-file",
        "--bwlimit",
        "--chmod",
        "--chown",
        "--partial-dir",
        "--backup-dir",
        "--suffix",
        "--compare-dest",
        "--copy-dest",
        "--link-dest",
        "--port",
        "--timeout",
        "--out-format",
        "--max-size",
        "--min-size",
        "-B",
        "--block-size",
    ],
    code: &["-M", "--remote-option"],
    shell_code: &["-e", "--rsh", "--rsync-path"],
    ..GENERIC
};
const SHELL: Spec = Spec {
    values: &["-o", "+o", "-O", "+O"],
    code: &["--rcfile", "--init-file"],
    operands: Operands::Program { shell: true },
    plus: true,
    ..GENERIC
};
const PYTHON: Spec = interpreter(&["-W", "-X", "--check-hash-based-pycs"], &["-c", "-m"]);
const PERL: Spec = interpreter(&["-I"], &["-e", "-E", "-M", "-m"]);
const RUBY: Spec = interpreter(
    &["-I", "-C", "-E", "--encoding"],
    &["-e", "-r", "--require"],
);
const NODE: Spec = interpreter(
    &["-C", "--conditions", "--input-type"],
    &[
        "-e",
        "--eval",
        "-p",
        "--print",
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
    ],
);
const PHP: Spec = interpreter(&["-c", "-z"], &["-r", "-B", "-R", "-E", "-F", "-f", "-d"]);
const LUA: Spec = interpreter(&[], &["-e", "-l"]);
const RSCRIPT: Spec = interpreter(&[], &["-e"]);
const EXPECT: Spec = interpreter(&[], &["-c"]);
const AWK: Spec = interpreter(
    &["-F", "--field-separator", "-v", "--assign"],
    &[
        "-f",
        "--file",
        "-e",
        "--source",
        "-i",
        "--include",
        "-l",
        "--load",
        "-E",
        "--exec",
    ],
);
const SED: Spec = interpreter(
    &["-l", "--line-length"],
    &["-e", "--expression", "-f", "--file"],
);
const TAR: Spec = Spec {
    values: &[
        "-f",
        "--file",
        "-C",
        "--directory",
        "-T",
        "--files-from",
        "-X",
        "--exclude-from",
        "-b",
        "--blocking-factor",
        "-g",
        "--listed-incremental",
        "-H",
        "--format",
        "-K",
        "--starting-file",
        "-L",
        "--tape-length",
        "-N",
        "--newer",
        "--after-date",
        "-V",
        "--label",
        "--exclude",
        "--owner",
        "--group",
        "--mode",
        "--mtime",
        "--transform",
        "--xform",
        "--suffix",
    ],
    code: &[
        "--to-command",
        "--checkpoint-action",
        "-I",
        "--use-compress-program",
        "--rsh-command",
        "-F",
        "--info-script",
        "--new-volume-script",
    ],
    cluster_values: b"fbCTXgKLNVH",
    cluster_code: b"IF",
    operands: Operands::FirstCluster,
    ..GENERIC
};
const PS: Spec = Spec {
    values: &[
        "-p",
        "--pid",
        "-q",
        "--quick-pid",
        "--ppid",
        "-u",
        "--user",
        "-U",
        "-g",
        "--group",
        "-G",
        "-C",
        "-o",
        "--format",
        "-O",
        "-t",
        "--tty",
        "-s",
        "--sid",
        "-k",
        "--sort",
        "--cols",
        "--columns",
        "--rows",
        "--width",
    ],
    operands: Operands::Clusters,
    ..GENERIC
};
const GIT: Spec = Spec {
    values: &[
        "-C",
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--super-prefix",
        "--config-env",
        "--attr-source",
    ],
    code: &["-c", "--exec-path"],
    operands: Operands::Subcommand,
    ..GENERIC
};
/// The arguments of a git subcommand: the options that run a program.
const GIT_SUBCOMMAND: Spec = Spec {
    code: &[
        "--upload-pack",
        "--receive-pack",
        "--exec",
        "--extcmd",
        "--open-files-in-pager",
        "--config",
    ],
    ..GENERIC
};
const FIND: Spec = Spec {
    operands: Operands::Find,
    ..GENERIC
};

/// The table, by basename with version suffixes dropped.
fn lookup(name: &[u8]) -> &'static Spec {
    match name {
        b"timeout" => &TIMEOUT,
        b"nice" => &NICE,
        b"nohup" | b"setsid" | b"command" | b"builtin" | b"unbuffer" | b"torsocks"
        | b"catchsegv" | b"fakeroot" => &NOHUP,
        b"time" => &TIME,
        b"exec" => &EXEC,
        b"env" => &ENV,
        b"sudo" => &SUDO,
        b"doas" => &DOAS,
        b"pkexec" => &PKEXEC,
        b"xargs" => &XARGS,
        b"stdbuf" => &STDBUF,
        b"ionice" => &IONICE,
        b"chroot" => &CHROOT,
        b"flock" => &FLOCK,
        b"chrt" => &CHRT,
        b"taskset" => &TASKSET,
        b"strace" | b"ltrace" => &STRACE,
        b"proxychains" => &PROXYCHAINS,
        b"systemd-run" => &SYSTEMD_RUN,
        b"su" | b"runuser" => &SU,
        b"script" => &SCRIPT,
        b"eval" | b"cmd" | b"powershell" | b"pwsh" => &CMD,
        b"watch" => &WATCH,
        b"busybox" => &BUSYBOX,
        b"ssh" => &SSH,
        b"scp" | b"sftp" => &SCP,
        b"rsync" => &RSYNC,
        b"sh" | b"bash" | b"dash" | b"zsh" | b"ksh" | b"mksh" | b"ash" | b"fish" | b"csh"
        | b"tcsh" | b"yash" | b"posh" => &SHELL,
        b"python" | b"pypy" => &PYTHON,
        b"perl" => &PERL,
        b"ruby" => &RUBY,
        b"node" | b"nodejs" => &NODE,
        b"php" => &PHP,
        b"lua" | b"luajit" => &LUA,
        b"Rscript" | b"osascript" => &RSCRIPT,
        b"expect" | b"tclsh" | b"wish" => &EXPECT,
        b"awk" | b"gawk" | b"mawk" | b"nawk" | b"busybox-awk" => &AWK,
        b"sed" | b"gsed" => &SED,
        b"tar" | b"gtar" | b"bsdtar" => &TAR,
        b"ps" => &PS,
        b"git" => &GIT,
        b"find" | b"gfind" => &FIND,
        _ => &GENERIC,
    }
}

/// The name a program is looked up by: the basename of its path, without
/// `.exe` and without a version suffix (`python3.12` → `python`,
/// `lua5.4` → `lua`).
pub fn program_name(path: &[u8]) -> &[u8] {
    let base = match path.iter().rposition(|&b| b == b'/' || b == b'\\') {
        Some(i) => path.get(i + 1..).unwrap_or_default(),
        None => path,
    };
    let base = match base.len().checked_sub(4) {
        Some(i)
            if base
                .get(i..)
                .is_some_and(|s| s.eq_ignore_ascii_case(b".exe")) =>
        {
            base.get(..i).unwrap_or_default()
        }
        _ => base,
    };
    let kept = base
        .iter()
        .rposition(|b| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(base.len(), |i| i + 1);
    base.get(..kept).unwrap_or(base)
}

/// One word as the reader sees it: its text (for a shell word, with quotes
/// removed, possibly only a prefix) and whether that text is all of it.
#[derive(Debug, Clone, Copy)]
pub struct Word<'a> {
    /// The word's bytes (a prefix when `complete` is false).
    pub text: &'a [u8],
    /// Whether `text` is the whole word: false when an expansion (`$x`,
    /// `$(…)`) makes part of it unknown until run time, or the word was
    /// longer than the caller kept.
    pub complete: bool,
    /// The word's last path segment (after its last `/`), when known in
    /// full although `text` is not (a long path). Programs are looked up
    /// by it.
    pub name: Option<&'a [u8]>,
}

impl<'a> Word<'a> {
    /// A word known in full, such as an argument of an argument vector.
    pub const fn new(text: &'a [u8]) -> Self {
        Word {
            text,
            complete: true,
            name: None,
        }
    }
}

/// What the reader expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The next word names the program (shell assignments and keywords
    /// first, when reading shell text).
    Command,
    /// The arguments of the program.
    Args,
    /// Every word is shell text.
    ShellCode,
    /// Every word is data (positional parameters, `for` lists …).
    Data,
}

/// A role owed to a word still to come: the value of an option given
/// without one attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owed {
    Value,
    Code,
    ShellCode,
}

const MAX_OWED: usize = 4;

/// Follows the words of one simple command and tells each word's
/// [`Role`]; see the [module docs](self).
///
/// ```
/// use rasp_detect::shell::exec::{ExecReader, Role, Word};
///
/// let mut reader = ExecReader::command();
/// let roles: Vec<Role> = ["timeout", "-s", "KILL", "5", "python3", "-c", "print(1)"]
///     .iter()
///     .map(|w| reader.next(Word::new(w.as_bytes())))
///     .collect();
/// assert_eq!(roles[4], Role::Command);
/// assert_eq!(roles[6], Role::Code);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ExecReader {
    state: State,
    spec: &'static Spec,
    /// Reading shell text: assignments and reserved words may precede the
    /// command.
    shell: bool,
    /// `--` was seen (or options end at the first operand).
    options_done: bool,
    operands: u8,
    /// The program text came from an option (`perl -e`).
    program_given: bool,
    owed: [Owed; MAX_OWED],
    owed_len: u8,
    wrappers: u8,
    /// Arguments read since the program word.
    arguments: u16,
    /// Inside `find … -exec`: `;` (or `+` after `{}`) returns to find.
    in_find_exec: bool,
    last_was_braces: bool,
}

impl ExecReader {
    fn at(state: State, spec: &'static Spec, shell: bool) -> Self {
        ExecReader {
            state,
            spec,
            shell,
            options_done: false,
            operands: 0,
            program_given: false,
            owed: [Owed::Value; MAX_OWED],
            owed_len: 0,
            wrappers: 0,
            arguments: 0,
            in_find_exec: false,
            last_was_braces: false,
        }
    }

    /// A reader at the start of a simple command in shell text: assignments
    /// (`A=1`) and reserved words (`if`, `then`, `!` …) may come before the
    /// command word.
    pub fn command() -> Self {
        Self::at(State::Command, &GENERIC, true)
    }

    /// A reader for the arguments of `program` (a path or a name), as an
    /// argument vector gives them.
    pub fn program(program: &[u8]) -> Self {
        let mut reader = Self::at(State::Command, &GENERIC, false);
        reader.next(Word::new(program));
        reader
    }

    /// A reader for arguments that are data whatever they hold: the
    /// positional parameters of a script.
    pub fn data() -> Self {
        Self::at(State::Data, &GENERIC, false)
    }

    /// The role of the next word.
    pub fn next(&mut self, word: Word<'_>) -> Role {
        let text = word.text;
        let braces = text == b"{}";
        let was_braces = core::mem::replace(&mut self.last_was_braces, braces);
        if self.in_find_exec && word.complete && (text == b";" || (text == b"+" && was_braces)) {
            let wrappers = self.wrappers;
            *self = Self::at(State::Args, &FIND, self.shell);
            self.wrappers = wrappers;
            self.options_done = true;
            self.operands = 1;
            return Role::Operand;
        }
        match self.state {
            State::Command => self.command_word(word),
            State::Args => self.argument(word),
            State::ShellCode => Role::ShellCode,
            State::Data => Role::Operand,
        }
    }

    fn command_word(&mut self, word: Word<'_>) -> Role {
        let text = word.text;
        if (self.shell || self.spec.assignments) && is_assignment(text) {
            return Role::Operand;
        }
        if self.shell && word.complete {
            match text {
                b"if" | b"then" | b"else" | b"elif" | b"do" | b"while" | b"until" | b"!" | b"{" => {
                    return Role::Operand;
                }
                b"for" | b"case" | b"select" | b"function" | b"[[" | b"}" | b"fi" | b"done"
                | b"esac" => {
                    self.state = State::Data;
                    return Role::Operand;
                }
                _ => {}
            }
        }
        self.enter(word)
    }

    /// Starts reading the arguments of the program `word` names, and
    /// returns the role of `word`: the command, or past the wrapper limit
    /// code.
    fn enter(&mut self, word: Word<'_>) -> Role {
        let wrappers = self.wrappers.saturating_add(1);
        let in_find_exec = self.in_find_exec;
        // A word an expansion makes unknown names a program rasp cannot
        // look up; a long path is looked up by its last segment.
        let spec = match (word.complete, word.name) {
            (true, _) => lookup(program_name(word.text)),
            (false, Some(name)) if !name.is_empty() => lookup(program_name(name)),
            (false, _) => &GENERIC,
        };
        *self = Self::at(State::Args, spec, false);
        self.wrappers = wrappers;
        self.in_find_exec = in_find_exec;
        if wrappers > MAX_WRAPPERS {
            self.state = State::ShellCode;
            return Role::ShellCode;
        }
        Role::Command
    }

    fn owe(&mut self, owed: Owed) {
        if let Some(slot) = self.owed.get_mut(usize::from(self.owed_len)) {
            *slot = owed;
            self.owed_len += 1;
        }
    }

    fn argument(&mut self, word: Word<'_>) -> Role {
        let text = word.text;
        self.arguments = self.arguments.saturating_add(1);
        if self.owed_len > 0 {
            let owed = self.owed[0];
            self.owed.copy_within(1.., 0);
            self.owed_len -= 1;
            return match owed {
                Owed::Value => Role::Value,
                Owed::Code => Role::Code,
                Owed::ShellCode => Role::ShellCode,
            };
        }
        let spec = self.spec;
        if spec.operands == Operands::Find {
            return self.find_word(text);
        }
        let flag = matches!(text.first(), Some(b'-')) || (spec.plus && text.first() == Some(&b'+'));
        if flag && text.len() > 1 && !self.options_done {
            return self.option(text);
        }
        // A wrapper's own `-c` after its operands (`flock FILE -c CMD`).
        if flag
            && text.len() > 1
            && spec.operands == Operands::Command(self.operands)
            && let Some(role) = self.listed(text)
        {
            return role;
        }
        self.operand(word)
    }

    /// The role of an option the table lists as taking code, if it does.
    fn listed(&mut self, text: &[u8]) -> Option<Role> {
        let spec = self.spec;
        let (name, attached) = split_long(text);
        if spec.shell_code.contains_bytes(name) {
            return Some(match attached {
                Some(at) => Role::OptionCode { at },
                None => {
                    self.owe(Owed::ShellCode);
                    self.program_given = true;
                    Role::Option
                }
            });
        }
        None
    }

    fn option(&mut self, text: &[u8]) -> Role {
        if text == b"--" {
            self.options_done = true;
            return Role::Option;
        }
        let spec = self.spec;
        if text.starts_with(b"--") {
            let (name, attached) = split_long(text);
            let code = spec.code.contains_bytes(name);
            let shell = spec.shell_code.contains_bytes(name);
            if code || shell {
                self.program_given = true;
                return match attached {
                    Some(at) => Role::OptionCode { at },
                    None => {
                        self.owe(if shell { Owed::ShellCode } else { Owed::Code });
                        Role::Option
                    }
                };
            }
            if attached.is_none() && spec.values.contains_bytes(name) {
                self.owe(Owed::Value);
            }
            return Role::Option;
        }
        // A cluster of short options, getopt style: `-pe`, `-n5`, `-oX=y`.
        let sign = text.first().copied().unwrap_or(b'-');
        for (i, &letter) in text.iter().enumerate().skip(1) {
            let name = [sign, letter];
            let rest = i + 1 < text.len();
            let code = spec.code.contains_bytes(&name);
            let shell = spec.shell_code.contains_bytes(&name);
            if code || shell {
                self.program_given = true;
                if rest {
                    return Role::OptionCode { at: i + 1 };
                }
                self.owe(if shell { Owed::ShellCode } else { Owed::Code });
                return Role::Option;
            }
            if spec.values.contains_bytes(&name) {
                if !rest {
                    self.owe(Owed::Value);
                }
                return Role::Option;
            }
        }
        Role::Option
    }

    /// A word of `find`: paths, then an expression whose primaries start
    /// with `-`; `-exec CMD … ;` runs CMD.
    fn find_word(&mut self, text: &[u8]) -> Role {
        if text.first() != Some(&b'-') || text.len() < 2 {
            return Role::Operand;
        }
        if matches!(text, b"-exec" | b"-execdir" | b"-ok" | b"-okdir") {
            let wrappers = self.wrappers;
            *self = Self::at(State::Command, &GENERIC, false);
            self.wrappers = wrappers;
            self.in_find_exec = true;
        }
        Role::Option
    }

    fn operand(&mut self, word: Word<'_>) -> Role {
        let text = word.text;
        let first = self.operands == 0;
        self.operands = self.operands.saturating_add(1);
        match self.spec.operands {
            Operands::Data => Role::Operand,
            Operands::Command(skip) => {
                if self.spec.assignments && !self.options_done && is_assignment(text) {
                    self.operands -= 1;
                    return Role::Operand;
                }
                if self.operands <= skip {
                    // Options end at the first operand (`+` getopt).
                    self.options_done = true;
                    return Role::Operand;
                }
                self.enter(word)
            }
            Operands::ShellCode(skip) => {
                self.options_done = true;
                if self.operands <= skip {
                    return Role::Operand;
                }
                self.state = State::ShellCode;
                Role::ShellCode
            }
            Operands::Program { shell } => {
                if !first || self.program_given {
                    if shell {
                        self.state = State::Data;
                    }
                    return Role::Operand;
                }
                if shell {
                    // `sh -c SCRIPT name args…`: the rest is positional.
                    self.state = State::Data;
                    return Role::ShellCode;
                }
                // The script's own arguments follow; it reads its options.
                self.spec = &GENERIC;
                self.options_done = false;
                Role::Code
            }
            Operands::Clusters => Role::Option,
            Operands::FirstCluster if self.arguments == 1 => {
                for letter in text {
                    if self.spec.cluster_code.contains(letter) {
                        self.owe(Owed::Code);
                    } else if self.spec.cluster_values.contains(letter) {
                        self.owe(Owed::Value);
                    }
                }
                Role::Option
            }
            Operands::FirstCluster => Role::Operand,
            Operands::Subcommand => {
                if first {
                    self.spec = &GIT_SUBCOMMAND;
                    self.options_done = false;
                    self.operands = 0;
                    Role::Command
                } else {
                    Role::Operand
                }
            }
            Operands::Find => Role::Operand,
        }
    }
}

/// `--name=value` → (`--name`, offset of `value`); `--name` → (`--name`,
/// None).
fn split_long(text: &[u8]) -> (&[u8], Option<usize>) {
    match text.iter().position(|&b| b == b'=') {
        Some(i) => (text.get(..i).unwrap_or(text), Some(i + 1)),
        None => (text, None),
    }
}

/// `NAME=…` with a valid shell variable name.
fn is_assignment(text: &[u8]) -> bool {
    let Some(eq) = text.iter().position(|&b| b == b'=') else {
        return false;
    };
    let name = text.get(..eq).unwrap_or_default();
    name.first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

trait ContainsBytes {
    fn contains_bytes(&self, name: &[u8]) -> bool;
}

impl ContainsBytes for [&'static str] {
    fn contains_bytes(&self, name: &[u8]) -> bool {
        self.iter().any(|o| o.as_bytes() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(words: &[&str]) -> Vec<Role> {
        let mut reader = ExecReader::command();
        words
            .iter()
            .map(|w| reader.next(Word::new(w.as_bytes())))
            .collect()
    }

    fn role_of_last(words: &[&str]) -> Role {
        *roles(words).last().unwrap()
    }

    use Role::{Code, Command, Operand, Option as Opt, OptionCode, ShellCode, Value};

    #[test]
    fn names_programs_by_basename_without_versions() {
        assert_eq!(program_name(b"/usr/bin/python3.12"), b"python");
        assert_eq!(program_name(b"lua5.4"), b"lua");
        assert_eq!(program_name(b"C:\\bin\\cmd.exe"), b"cmd");
        assert_eq!(program_name(b"env"), b"env");
        assert_eq!(program_name(b"7z"), b"7z");
    }

    #[test]
    fn follows_wrappers_to_the_wrapped_command() {
        assert_eq!(role_of_last(&["timeout", "5", "id"]), Command);
        assert_eq!(role_of_last(&["timeout", "-s", "KILL", "5", "id"]), Command);
        assert_eq!(
            role_of_last(&["timeout", "--signal=KILL", "5", "id"]),
            Command
        );
        assert_eq!(role_of_last(&["timeout", "-k5", "5", "id"]), Command);
        assert_eq!(role_of_last(&["nice", "-n", "5", "id"]), Command);
        assert_eq!(
            role_of_last(&["/usr/bin/env", "-u", "B", "A=1", "id"]),
            Command
        );
        assert_eq!(role_of_last(&["sudo", "-u", "app", "id"]), Command);
        assert_eq!(role_of_last(&["xargs", "-0", "-n", "1", "id"]), Command);
        assert_eq!(role_of_last(&["stdbuf", "-oL", "id"]), Command);
        assert_eq!(role_of_last(&["ionice", "-c2", "id"]), Command);
        assert_eq!(role_of_last(&["chroot", "/srv", "id"]), Command);
        assert_eq!(role_of_last(&["flock", "/tmp/l", "id"]), Command);
        assert_eq!(role_of_last(&["flock", "/tmp/l", "-c", "id"]), ShellCode);
        assert_eq!(role_of_last(&["nohup", "setsid", "doas", "id"]), Command);
        assert_eq!(
            roles(&["sudo", "nice", "timeout", "5", "env", "id", "-x"]),
            [Command, Command, Command, Operand, Command, Command, Opt]
        );
        // The wrapped program's own arguments are read by its own entry.
        assert_eq!(role_of_last(&["timeout", "5", "grep", "--", "x"]), Operand);
        assert_eq!(role_of_last(&["timeout", "5", "python3", "-c", "x"]), Code);
    }

    #[test]
    fn remote_and_shell_command_lines_are_shell_code() {
        assert_eq!(
            roles(&["ssh", "-p", "22", "host", "ls", "x"]),
            [Command, Opt, Value, Operand, ShellCode, ShellCode]
        );
        assert_eq!(
            roles(&["sh", "-c", "echo $1", "sh", "-x"]),
            [Command, Opt, ShellCode, Operand, Operand]
        );
        assert_eq!(
            role_of_last(&["bash", "-o", "pipefail", "-c", "x"]),
            ShellCode
        );
        assert_eq!(role_of_last(&["env", "-S", "id -u"]), ShellCode);
        assert_eq!(role_of_last(&["eval", "x"]), ShellCode);
        assert_eq!(role_of_last(&["su", "-c", "x"]), ShellCode);
        assert_eq!(role_of_last(&["rsync", "-e", "x", "a", "b"]), Operand);
        assert_eq!(roles(&["rsync", "-e", "x"])[2], ShellCode);
        assert_eq!(role_of_last(&["rsync", "--rsh=x"]), OptionCode { at: 6 });
    }

    #[test]
    fn interpreters_take_code_from_flags_or_the_first_operand() {
        assert_eq!(role_of_last(&["python3", "-c", "x"]), Code);
        assert_eq!(role_of_last(&["python3", "-m", "x"]), Code);
        assert_eq!(role_of_last(&["python3", "script.py"]), Code);
        assert_eq!(role_of_last(&["python3", "script.py", "x"]), Operand);
        assert_eq!(role_of_last(&["python3", "script.py", "-x"]), Opt);
        assert_eq!(role_of_last(&["python3", "-c", "code", "x"]), Operand);
        assert_eq!(role_of_last(&["perl", "-pe", "x"]), Code);
        assert_eq!(role_of_last(&["perl", "-eprint"]), OptionCode { at: 2 });
        assert_eq!(role_of_last(&["perl", "-e", "code", "file"]), Operand);
        assert_eq!(role_of_last(&["ruby", "-e", "x"]), Code);
        assert_eq!(role_of_last(&["node", "--eval", "x"]), Code);
        assert_eq!(role_of_last(&["node", "-p", "x"]), Code);
        assert_eq!(role_of_last(&["php", "-r", "x"]), Code);
        assert_eq!(role_of_last(&["awk", "-F", ",", "{print}"]), Code);
        assert_eq!(role_of_last(&["awk", "-F", ",", "{print}", "f"]), Operand);
        assert_eq!(role_of_last(&["awk", "-f", "prog.awk", "x"]), Operand);
        assert_eq!(role_of_last(&["sed", "-n", "x"]), Code);
        assert_eq!(role_of_last(&["sed", "-e", "p", "x"]), Operand);
    }

    #[test]
    fn reads_old_style_clusters_and_command_options() {
        assert_eq!(
            roles(&["tar", "cvf", "a.tar", "x"]),
            [Command, Opt, Value, Operand]
        );
        assert_eq!(
            roles(&["tar", "cIf", "gzip", "a.tar"]),
            [Command, Opt, Code, Value]
        );
        assert_eq!(
            role_of_last(&["tar", "-x", "--to-command=x"]),
            OptionCode { at: 13 }
        );
        assert_eq!(
            role_of_last(&["tar", "-c", "--use-compress-program", "x"]),
            Code
        );
        assert_eq!(role_of_last(&["tar", "-cf", "a.tar", "x"]), Operand);
        assert_eq!(role_of_last(&["ps", "aux"]), Opt);
        assert_eq!(role_of_last(&["ps", "-p", "1"]), Value);
        assert_eq!(role_of_last(&["git", "-c", "core.sshCommand=x"]), Code);
        assert_eq!(role_of_last(&["git", "x"]), Command);
        assert_eq!(role_of_last(&["git", "-C", "/srv", "log", "x"]), Operand);
        assert_eq!(role_of_last(&["git", "clone", "--upload-pack", "x"]), Code);
        assert_eq!(
            role_of_last(&["ssh", "-oProxyCommand=x"]),
            OptionCode { at: 2 }
        );
    }

    #[test]
    fn find_exec_runs_a_command_until_its_terminator() {
        assert_eq!(
            roles(&[
                "find", ".", "-name", "x", "-exec", "id", "{}", ";", "-print"
            ]),
            [
                Command, Operand, Opt, Operand, Opt, Command, Operand, Operand, Opt
            ]
        );
        assert_eq!(
            role_of_last(&["find", ".", "-execdir", "timeout", "5", "x"]),
            Command
        );
        assert_eq!(
            role_of_last(&["find", ".", "-ok", "sh", "-c", "x", ";"]),
            Operand
        );
    }

    #[test]
    fn options_end_at_the_double_dash() {
        assert_eq!(
            roles(&["grep", "-F", "--", "-x"]),
            [Command, Opt, Opt, Operand]
        );
        assert_eq!(role_of_last(&["ls", "-la"]), Opt);
        assert_eq!(role_of_last(&["ls", "-"]), Operand);
    }

    #[test]
    fn shell_assignments_and_keywords_precede_the_command() {
        assert_eq!(roles(&["A=1", "B=2", "id"]), [Operand, Operand, Command]);
        assert_eq!(roles(&["if", "!", "id"]), [Operand, Operand, Command]);
        assert_eq!(roles(&["for", "x", "in", "a"]), [Operand; 4]);
    }

    #[test]
    fn past_the_wrapper_limit_every_word_is_code() {
        let mut words = vec!["nice"; usize::from(MAX_WRAPPERS)];
        words.push("x");
        assert_eq!(role_of_last(&words), ShellCode);
    }

    #[test]
    fn unknown_command_words_are_generic_programs() {
        let mut reader = ExecReader::command();
        let partial = Word {
            text: b"time",
            complete: false,
            name: None,
        };
        assert_eq!(reader.next(partial), Command);
        assert_eq!(reader.next(Word::new(b"id")), Operand);
    }
}

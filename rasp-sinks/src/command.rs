//! The process guard: `rasp::process::Command` runs programs with checked
//! arguments, and `rasp::process::shell(script)` checks an `sh -c` script
//! before a shell reads it.
//!
//! An argument vector is the safe way to hand data to a program: each
//! argument reaches it as it is, so no input can add a word, an operator or
//! a command substitution. Two things are left to guard:
//!
//! - **the program**: [`Command::new`] takes only a [`Program`] — a string
//!   literal, or a value passed through `rasp::trust_unchecked!` — so a
//!   `Tainted` value never chooses what runs (a compile error);
//! - **options**: a program reads an argument that starts with `-` as an
//!   option (`--output=/etc/cron.d/x`, `-oProxyCommand=…`).
//!   [`Command::arg_tainted`] refuses a tainted value that starts with `-`,
//!   unless a literal `--` came first (the end-of-options marker of getopt
//!   programs), and one that carries a NUL byte (an argument cannot hold
//!   one). Arguments built at run time and given to [`Command::arg`] are
//!   checked against the inputs recorded in the request context: a
//!   recorded input that starts the argument with `-` is refused the same
//!   way.
//!
//! - **arguments a program runs**: many programs run a command written
//!   in their own arguments or interpret one as code — `timeout 5 CMD`,
//!   `nice`, `env`, `xargs`, `sudo`, `ssh HOST CMD…`, `find -exec CMD ;`,
//!   `python3 -c CODE`, `perl -e`, `awk PROGRAM`, `tar --to-command=CMD`,
//!   `git -c core.sshCommand=CMD`, `rsync -e CMD`. The builder follows the
//!   argument vector with the table of such programs in
//!   [`rasp_core::detect::shell::exec`] (through wrappers of wrappers) and
//!   refuses a tainted value in a position the program runs or
//!   interprets, and old-style option clusters (`tar xvf`, `ps aux`) a
//!   tainted value would write. Built text there is checked against the
//!   recorded inputs: an input that writes a program name or a token of
//!   code is refused.
//!
//! A shell is different: it reads its script as shell text. A script must
//! go through [`shell`], which runs the shell detector on it (an input that
//! spans words, adds `;` `|` `&` a newline or a redirection, or opens `$( )`
//! or backticks outside single quotes is refused, and so is one that names
//! the program a command or a wrapper in it runs, writes code an
//! interpreter in it runs, or starts an option before the script's own
//! `--`) and returns a [`CheckedScript`]. Data is best handed to a script
//! as positional parameters (`"$1"`), with [`CheckedScript::command`] and
//! [`Command::arg_tainted`]. A [`Command`] whose program is itself a shell
//! (`sh`, `bash`, `dash`, `zsh`, …), or whose arguments become a command
//! line (the remote command of `ssh`, `env -S`, `su -c`, `eval`, `watch`,
//! `cmd`, `powershell`), reads those arguments as shell text: a tainted
//! value there is refused and built text is checked as shell text; the
//! positional parameters after a shell's script are data.
//!
//! ```text
//! rasp::process::Command::new("grep").arg("-F").arg("--").arg_tainted(q).arg(path).std()?.output()?;
//! rasp::process::shell(format!("tar czf {out} -C {dir} ."))?.std().output()?;
//! ```
//!
//! A refusal is a [`Blocked`]; the builder keeps the first one and returns
//! it from [`Command::std`] (or [`Command::tokio`]), so a chain of calls is
//! checked as a whole. Each entry point is a registered sink of class
//! `shell` (`process.command.arg`, `process.shell`), so policies and events
//! name it.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use rasp_core::check::{check, check_with};
use rasp_core::class::SinkClass;
use rasp_core::detect::shell::exec::{ExecReader, Role, Word};
use rasp_core::detect::shell::{detect as detect_shell, detect_option};
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use rasp_core::{Asserted, Blocked, Reason, Shell, Tainted};

use crate::refusal::refuse;

macro_rules! shell_site {
    ($name:ident, $id:literal, $fn_path:literal, $guarded:literal, $guard:expr) => {
        static $name: SinkSite = SinkSite::new(
            $id,
            SinkClass::Shell,
            $fn_path,
            file!(),
            line!(),
            &[$guarded],
            $guard,
        );
        inventory::submit! { SinkRegistration(&$name) }
    };
}

shell_site!(
    ARG,
    "process.command.arg",
    "rasp::process::Command::arg",
    "arg",
    Guard::Typed
);
shell_site!(
    SCRIPT,
    "process.shell",
    "rasp::process::shell",
    "script",
    Guard::RuntimeChecked
);

/// The shell that runs [`CheckedScript`]s.
const SH: &str = "sh";

/// A program [`Command::new`] may run: a string literal (`"tar"`,
/// `"/usr/bin/convert"`), a `'static` path, or a value asserted through
/// `rasp::trust_unchecked!`. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot choose the program `rasp::process::Command` runs",
    label = "not a fixed program name",
    note = "name the program with a string literal (`Command::new(\"tar\")`) and pass untrusted values as arguments with `.arg_tainted(value)`",
    note = "a program chosen at run time must be asserted for shell: `rasp::trust_unchecked!(value, rasp::Shell, \"why\")`"
)]
pub trait Program: sealed::Sealed {}

/// An argument [`Command::arg`] accepts: string literals (passed as they
/// are), owned text built at run time (`String`, `OsString`, `PathBuf`,
/// `Box<str>`, borrowed `&String`/`&PathBuf`/`&OsString`, checked against
/// the recorded inputs) and numbers. A `Tainted` value goes through
/// [`Command::arg_tainted`] instead. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of `rasp::process::Command::arg`",
    label = "not a literal, an owned string or a number",
    note = "pass an untrusted value with `.arg_tainted(value)`, which refuses a leading `-`"
)]
pub trait ArgText: sealed::Sealed {}

/// A script [`shell`] accepts: owned text built at run time (`String`,
/// `&String`, `Box<str>`, `Cow<'static, str>`), a script composed for the
/// shell (`rasp::compose!(rasp::Shell, …)`) and string literals, all
/// checked against the recorded inputs. A tainted value is never a script,
/// not even kept tainted: quote it into one with `compose!`. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be checked as a shell script by `rasp::process::shell`",
    label = "expected an owned string, a string literal or a script composed for the shell",
    note = "a `rasp::Tainted` value must never be the script: quote it into one, `rasp::process::shell(rasp::compose!(rasp::Shell, \"cmd {{}}\", value.sanitize::<rasp::Shell>()))`, or pass it as a positional parameter: `shell(\"cmd \\\"$1\\\"\")?.command().arg_tainted(value)`"
)]
pub trait ScriptText: script_sealed::Sealed {}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod script_sealed {
    use std::borrow::Cow;

    /// Turns an accepted script into the text the check and the shell see.
    pub trait Sealed {
        /// `Cow::Borrowed` for `'static` text, not copied (and checked all
        /// the same).
        fn into_script(self) -> Cow<'static, str>;
    }

    impl Sealed for &'static str {
        fn into_script(self) -> Cow<'static, str> {
            Cow::Borrowed(self)
        }
    }
    impl Sealed for String {
        fn into_script(self) -> Cow<'static, str> {
            Cow::Owned(self)
        }
    }
    impl Sealed for &String {
        fn into_script(self) -> Cow<'static, str> {
            Cow::Owned(self.clone())
        }
    }
    impl Sealed for Box<str> {
        fn into_script(self) -> Cow<'static, str> {
            Cow::Owned(self.into())
        }
    }
    impl Sealed for Cow<'static, str> {
        fn into_script(self) -> Cow<'static, str> {
            self
        }
    }
    // A script composed with `rasp::compose!` from words quoted for shell.
    impl Sealed for rasp_core::Composed<rasp_core::Shell> {
        fn into_script(self) -> Cow<'static, str> {
            Cow::Owned(rasp_core::__private_v1::take_composed_at(
                self,
                &super::SCRIPT,
            ))
        }
    }
}

impl ScriptText for &'static str {}
impl ScriptText for String {}
impl ScriptText for &String {}
impl ScriptText for Box<str> {}
impl ScriptText for Cow<'static, str> {}
impl ScriptText for rasp_core::Composed<Shell> {}

#[allow(unreachable_pub)] // the sealed-trait idiom: public name, private path
mod sealed {
    use std::borrow::Cow;
    use std::ffi::OsStr;

    /// Turns an accepted value into argument text.
    pub trait Sealed {
        /// `Cow::Borrowed` for `'static` text, not copied (and checked all
        /// the same).
        fn into_os(self) -> Cow<'static, OsStr>;
    }
}

macro_rules! os_text {
    ($tr:ident: $($t:ty => |$v:ident| $conv:expr;)*) => {$(
        impl sealed::Sealed for $t {
            #[inline]
            fn into_os(self) -> Cow<'static, OsStr> {
                let $v = self;
                $conv
            }
        }
        impl $tr for $t {}
    )*};
}

// Written out rather than generated, so that a compiler error lists the
// accepted types without macro internals.
impl sealed::Sealed for &'static str {
    #[inline]
    fn into_os(self) -> Cow<'static, OsStr> {
        Cow::Borrowed(OsStr::new(self))
    }
}
impl sealed::Sealed for &'static OsStr {
    #[inline]
    fn into_os(self) -> Cow<'static, OsStr> {
        Cow::Borrowed(self)
    }
}
impl sealed::Sealed for &'static Path {
    #[inline]
    fn into_os(self) -> Cow<'static, OsStr> {
        Cow::Borrowed(self.as_os_str())
    }
}
impl Program for &'static str {}
impl Program for &'static OsStr {}
impl Program for &'static Path {}

// A program chosen at run time must be vouched for as shell: a value
// asserted for another class (`Asserted<_, Sql>`) is refused here.
impl<T: Into<OsString>> sealed::Sealed for Asserted<T, Shell> {
    #[inline]
    fn into_os(self) -> Cow<'static, OsStr> {
        Cow::Owned(self.into_inner().into())
    }
}
impl<T: Into<OsString>> Program for Asserted<T, Shell> {}

impl ArgText for &'static str {}
impl ArgText for &'static OsStr {}
impl ArgText for &'static Path {}

os_text! { ArgText:
    String => |s| Cow::Owned(s.into());
    OsString => |s| Cow::Owned(s);
    PathBuf => |s| Cow::Owned(s.into_os_string());
    Box<str> => |s| Cow::Owned(String::from(s).into());
    &String => |s| Cow::Owned(s.into());
    &OsString => |s| Cow::Owned(s.clone());
    &PathBuf => |s| Cow::Owned(s.as_os_str().to_owned());
}

macro_rules! number_args {
    ($($t:ty)*) => {$(
        os_text! { ArgText: $t => |n| Cow::Owned(n.to_string().into()); }
    )*};
}
number_args!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

/// A program and its arguments, checked as they are added; becomes a
/// [`std::process::Command`] (or a `tokio::process::Command`) once every
/// argument has passed.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta, Tainted};
/// use rasp_sinks::command::Command;
///
/// static NAME: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let file = Tainted::new(String::from("q3 report.txt"), &NAME);
/// let out = Command::new("printf").arg("%s").arg_tainted(file).std()?.output()?;
/// assert_eq!(out.stdout, b"q3 report.txt");
///
/// let option = Tainted::new(String::from("--help"), &NAME);
/// let refused = Command::new("ls").arg_tainted(option).std().unwrap_err();
/// assert_eq!(refused.reason, rasp_core::Reason::OptionInjection);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    envs: Vec<(OsString, OsString)>,
    /// How the program reads the arguments added next.
    reader: ExecReader,
    refused: Option<Blocked>,
}

impl Command {
    /// A command that runs `program`, which must be fixed in the program
    /// (see [`Program`]). For a shell (`sh`, `bash`, …) the script is
    /// checked as shell text; [`shell`] is the direct way to run one.
    pub fn new(program: impl Program) -> Self {
        let program = program.into_os().into_owned();
        let reader = ExecReader::program(program.as_encoded_bytes());
        Command {
            program,
            args: Vec::new(),
            current_dir: None,
            envs: Vec::new(),
            reader,
            refused: None,
        }
    }

    /// Adds an argument the application wrote or built. Text built at run
    /// time is checked against the inputs recorded in the request context:
    /// refused when an input starts it with `-` (before `--`), names the
    /// program a wrapper runs (`timeout 5 CMD`) or writes code a program
    /// runs (`python3 -c CODE`, `--to-command=CMD`), or, for a command
    /// line a shell reads (`sh -c SCRIPT`, `ssh HOST CMD`), changes its
    /// structure as shell text. A literal `--` ends the options.
    pub fn arg(&mut self, arg: impl ArgText) -> &mut Self {
        let arg = arg.into_os();
        let role = self.reader.next(Word::new(arg.as_encoded_bytes()));
        // `'static` text is checked too: `String::leak` makes it out of anything.
        if self.refused.is_none() {
            let bytes = arg.as_encoded_bytes();
            let checked = match role {
                Role::Option => check_with(&ARG, bytes, detect_option_word),
                Role::Command | Role::Code => check_with(&ARG, bytes, detect_code),
                Role::OptionCode { at } => {
                    check_with(&ARG, bytes.get(at..).unwrap_or_default(), detect_code)
                }
                Role::ShellCode => check_with(&ARG, bytes, detect_shell_finding),
                Role::Value | Role::Operand => Ok(()),
            };
            self.refused = checked.err();
        }
        self.args.push(arg.into_owned());
        self
    }

    /// Adds several arguments, as [`arg`](Self::arg) does one by one.
    pub fn args<I>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: ArgText,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Adds an untrusted value as one argument. It cannot add a word or an
    /// operator (no shell reads it), but it is refused when it carries a
    /// NUL byte, when the program reads it as an option (it starts with `-`
    /// before a literal `--`, or is `tar`'s or `ps`'s old-style option
    /// cluster), and when it would choose what runs: the program a wrapper
    /// runs (`timeout 5 VALUE`, `find -exec VALUE`), code an interpreter
    /// runs (`python3 -c VALUE`, `awk VALUE`), or a command line a shell
    /// reads (`sh -c VALUE`, `ssh HOST VALUE`).
    pub fn arg_tainted<T: Into<OsString>>(&mut self, arg: Tainted<T>) -> &mut Self {
        let arg: OsString = rasp_core::__private_v1::take_at(arg, &ARG).into();
        let role = self.reader.next(Word::new(arg.as_encoded_bytes()));
        if self.refused.is_none() {
            self.refused =
                refuse_tainted(role, arg.as_encoded_bytes()).map(|reason| refuse(&ARG, reason));
        }
        self.args.push(arg);
        self
    }

    /// Sets the working directory of the program.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Sets an environment variable of the program. Values are not read by
    /// a shell as text (a shell expands `$NAME` as one word inside double
    /// quotes), so they are the safe way to pass data to a script.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Why an argument was refused, if one was.
    pub fn refused(&self) -> Option<&Blocked> {
        self.refused.as_ref()
    }

    /// The checked [`std::process::Command`], or the first refusal.
    #[allow(
        clippy::disallowed_methods,
        reason = "rasp's own guard: the program is fixed and every argument was checked"
    )]
    pub fn std(&self) -> Result<std::process::Command, Blocked> {
        if let Some(refused) = self.refused {
            return Err(refused);
        }
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        Ok(command)
    }

    /// The checked `tokio::process::Command`, or the first refusal
    /// (feature `tokio-process`).
    #[cfg(feature = "tokio-process")]
    pub fn tokio(&self) -> Result<tokio::process::Command, Blocked> {
        self.std().map(tokio::process::Command::from)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Arguments may hold untrusted text: show the program only.
        f.debug_struct("Command")
            .field("program", &self.program)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// Why a tainted argument in `role` is refused, if it is.
fn refuse_tainted(role: Role, arg: &[u8]) -> Option<Reason> {
    if arg.contains(&0) {
        return Some(Reason::NulByte);
    }
    match role {
        Role::Option => Some(Reason::OptionInjection),
        Role::Command | Role::Code | Role::OptionCode { .. } => Some(Reason::ChoosesCommand),
        // A command line a shell reads: whatever the value holds, it
        // decides what runs. Report the structure it brings, if any, as
        // the shell detector sees it.
        Role::ShellCode => {
            let finder = memchr::memmem::Finder::new(arg);
            Some(detect_shell(arg, &finder).map_or(Reason::ChoosesCommand, |f| f.reason))
        }
        Role::Value | Role::Operand => None,
    }
}

/// An input that starts an option word: `-…` (as [`detect_option`]), or
/// the whole start of an old-style cluster (`tar xvf`).
fn detect_option_word(
    arg: &[u8],
    finder: &dyn rasp_core::detect::Needle,
) -> Option<rasp_core::detect::Finding> {
    let needle = finder.needle();
    detect_option(arg, finder).or_else(|| {
        (!needle.is_empty() && arg.starts_with(needle)).then_some(rasp_core::detect::Finding {
            offset: 0,
            reason: Reason::OptionInjection,
        })
    })
}

/// An input that writes a name or a token of a program or program text
/// (`id`, `/tmp/x.py`, `system` in `BEGIN{system(…)}`), rather than
/// letters that happen to occur inside the application's own text.
fn detect_code(
    arg: &[u8],
    finder: &dyn rasp_core::detect::Needle,
) -> Option<rasp_core::detect::Finding> {
    let len = finder.needle().len();
    let word_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let mut from = 0;
    // Overlapping occurrences of a periodic input are followed a bounded
    // number of times, then only non-overlapping ones: linear work.
    let mut overlaps = 0u32;
    while let Some(at) = arg.get(from..).and_then(|rest| finder.find(rest)) {
        let start = from + at;
        let end = start + len;
        let before = start == 0 || !arg.get(start - 1).is_some_and(word_byte);
        let after = !arg.get(end).is_some_and(word_byte);
        if before && after {
            return Some(rasp_core::detect::Finding {
                offset: start,
                reason: Reason::ChoosesCommand,
            });
        }
        overlaps += 1;
        from = if overlaps < 64 { start + 1 } else { end };
    }
    None
}

fn detect_shell_finding(
    text: &[u8],
    finder: &dyn rasp_core::detect::Needle,
) -> Option<rasp_core::detect::Finding> {
    detect_shell(text, finder).map(|f| rasp_core::detect::Finding {
        offset: f.offset,
        reason: f.reason,
    })
}

/// An `sh -c` script that has passed rasp's runtime check.
///
/// The only way to get one is [`shell`].
#[derive(Clone)]
pub struct CheckedScript {
    script: Cow<'static, str>,
}

impl CheckedScript {
    /// The checked script.
    pub fn as_str(&self) -> &str {
        &self.script
    }

    /// `sh -c <script> sh` as a [`Command`], to which positional parameters
    /// (`$1`, `$2`, …) are added with [`Command::arg_tainted`] or
    /// [`Command::arg`]: values the script reads as `"$1"` are data, never
    /// shell text.
    pub fn command(&self) -> Command {
        Command {
            program: SH.into(),
            args: vec!["-c".into(), self.script.as_ref().into(), SH.into()],
            current_dir: None,
            envs: Vec::new(),
            reader: ExecReader::data(),
            refused: None,
        }
    }

    /// `sh -c <script>` as a [`std::process::Command`].
    #[allow(
        clippy::disallowed_methods,
        reason = "rasp's own guard: the script was checked by `shell`"
    )]
    pub fn std(&self) -> std::process::Command {
        let mut command = std::process::Command::new(SH);
        command.arg("-c").arg(self.script.as_ref());
        command
    }

    /// `sh -c <script>` as a `tokio::process::Command` (feature
    /// `tokio-process`).
    #[cfg(feature = "tokio-process")]
    pub fn tokio(&self) -> tokio::process::Command {
        tokio::process::Command::from(self.std())
    }
}

impl fmt::Debug for CheckedScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedScript")
            .field("script", &self.as_str())
            .finish()
    }
}

/// Checks an `sh -c` script built at run time and, if no recorded input
/// changes its structure, returns it ready to run.
///
/// String literals pass unchecked: they are written in the program. A
/// recorded input is refused when it spans more than one shell word, or
/// adds an operator (`;` `|` `&` `&&` `||`, a newline, `>` `<` `>>`) outside
/// quotes, or `$( )` or backticks outside single quotes (they still run
/// inside double quotes), or breaks out of the quotes the script put around
/// it. Quote a value with `.sanitize::<rasp::Shell>()` to make it one word.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::command::shell;
///
/// static NAME: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let greet = |name: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&NAME, name.as_bytes());
///     ctx.scope(|| shell(format!("echo hello {name}")))
/// };
///
/// let out = greet("ann")?.std().output()?;
/// assert_eq!(out.stdout, b"hello ann\n");
/// assert!(greet("ann; id").is_err());
/// assert!(greet("$(id)").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shell(script: impl ScriptText) -> Result<CheckedScript, Blocked> {
    let script = script.into_script();
    // `'static` text is checked too: `String::leak` makes it out of anything.
    check(&SCRIPT, script.as_bytes())?;
    Ok(CheckedScript { script })
}

/// A script built by `rasp::shell!`: its argument spans are judged at
/// `site` (the macro's own, registered where it is written). Not for
/// applications: the macro calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    spliced: rasp_core::__private_v1::Spliced<Shell>,
    site: &'static SinkSite,
) -> Result<CheckedScript, Blocked> {
    let text = rasp_core::__private_v1::checked_spliced(spliced, site)?;
    Ok(CheckedScript {
        script: Cow::Owned(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::{RequestContext, SourceMeta};

    static SRC: SourceMeta = SourceMeta::MANUAL;

    fn tainted(s: &str) -> Tainted<String> {
        Tainted::new(s.to_owned(), &SRC)
    }

    #[test]
    fn entry_points_are_registered() {
        for id in ["process.command.arg", "process.shell"] {
            let site = rasp_core::registry::sink(id).expect(id);
            assert_eq!(site.class(), SinkClass::Shell);
        }
    }

    #[test]
    fn tainted_options_are_refused_until_the_end_of_options() {
        let refused = Command::new("ls").arg_tainted(tainted("-la")).std();
        assert_eq!(refused.unwrap_err().reason, Reason::OptionInjection);
        assert!(
            Command::new("ls")
                .arg("--")
                .arg_tainted(tainted("-la"))
                .std()
                .is_ok()
        );
        let refused = Command::new("ls").arg_tainted(tainted("a\0b")).std();
        assert_eq!(refused.unwrap_err().reason, Reason::NulByte);
    }

    #[test]
    fn shells_refuse_tainted_scripts_and_take_tainted_parameters() {
        for (script, reason) in [
            ("ls", Reason::ChoosesCommand),
            ("ls; id", Reason::ShellOperator),
            ("$(id)", Reason::CommandSubstitution),
            ("-c", Reason::OptionInjection),
        ] {
            let refused = Command::new("/bin/sh")
                .arg("-c")
                .arg_tainted(tainted(script))
                .std();
            assert_eq!(refused.unwrap_err().reason, reason, "{script:?}");
        }
        let refused = Command::new("/usr/bin/env")
            .arg_tainted(tainted("id"))
            .std();
        assert_eq!(refused.unwrap_err().reason, Reason::ChoosesCommand);
        let refused = Command::new("env").arg_tainted(tainted("-S id")).std();
        assert_eq!(refused.unwrap_err().reason, Reason::ChoosesCommand);
        let out = Command::new("sh")
            .arg("-c")
            .arg("printf %s \"$1\"")
            .arg("sh")
            .arg_tainted(tainted("a b; $(id)"))
            .std()
            .unwrap()
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"a b; $(id)");
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, b"x; id");
        let refused = ctx.scope(|| {
            Command::new("bash")
                .arg("-c")
                .arg(String::from("echo x; id"))
                .std()
        });
        assert_eq!(refused.unwrap_err().reason, Reason::ShellOperator);
    }

    #[test]
    fn wrapped_commands_and_code_are_refused_and_data_passes() {
        let refused = |command: &mut Command| command.std().map(drop).unwrap_err().reason;
        let chooses = Reason::ChoosesCommand;
        assert_eq!(
            refused(Command::new("timeout").arg("5").arg_tainted(tainted("id"))),
            chooses
        );
        assert_eq!(
            refused(
                Command::new("sudo")
                    .args(["-u", "app", "nice", "-n", "5"])
                    .arg_tainted(tainted("id"))
            ),
            chooses
        );
        assert_eq!(
            refused(
                Command::new("find")
                    .args([".", "-exec"])
                    .arg_tainted(tainted("id"))
            ),
            chooses
        );
        assert_eq!(
            refused(
                Command::new("python3")
                    .arg("-c")
                    .arg_tainted(tainted("print(1)"))
            ),
            chooses
        );
        assert_eq!(
            refused(Command::new("awk").arg_tainted(tainted("BEGIN{}"))),
            chooses
        );
        assert_eq!(
            refused(Command::new("tar").arg_tainted(tainted("xvf"))),
            Reason::OptionInjection
        );
        assert_eq!(
            refused(Command::new("ssh").arg("host").arg_tainted(tainted("x;id"))),
            Reason::ShellOperator
        );
        // The same values as data of the same programs.
        for command in [
            Command::new("timeout")
                .args(["5", "grep", "--"])
                .arg_tainted(tainted("id")),
            Command::new("find")
                .args([".", "-name"])
                .arg_tainted(tainted("id")),
            Command::new("python3")
                .arg("/opt/report.py")
                .arg_tainted(tainted("id")),
            Command::new("tar")
                .args(["-cf", "a.tar", "--"])
                .arg_tainted(tainted("xvf")),
        ] {
            assert!(command.std().is_ok());
        }
        // Built text: an input that writes the program or code is refused.
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, b"id");
        ctx.scope(|| {
            let refused = Command::new("tar")
                .arg("-x")
                .arg(format!("--to-command={}", "id"))
                .std();
            assert_eq!(refused.unwrap_err().reason, chooses);
            let refused = Command::new("timeout")
                .arg("5")
                .arg(String::from("id"))
                .std();
            assert_eq!(refused.unwrap_err().reason, chooses);
            // Letters of the application's own text are not a choice.
            let ok = Command::new("python3")
                .arg("-c")
                .arg(String::from("import sys; print(sys.argv[1])"))
                .std();
            assert!(ok.is_ok());
        });
    }

    #[test]
    fn positional_parameters_are_data() {
        let out = shell("printf %s \"$1\"")
            .unwrap()
            .command()
            .arg_tainted(tainted("-x; $(id)"))
            .std()
            .unwrap()
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"-x; $(id)");
    }

    #[test]
    fn recorded_options_in_built_arguments_are_refused() {
        let ctx = RequestContext::new();
        ctx.record_input(&SRC, b"--output=/tmp/x");
        ctx.scope(|| {
            let refused = Command::new("curl")
                .arg(String::from("--output=/tmp/x"))
                .std();
            assert_eq!(refused.unwrap_err().reason, Reason::OptionInjection);
            assert!(
                Command::new("curl")
                    .arg(String::from("--data=--output=/tmp/x"))
                    .std()
                    .is_ok()
            );
            // `'static` text is checked too (`String::leak` makes it out of
            // anything): the recorded option is refused there as well, and
            // a literal the request did not send passes.
            let leaked: &'static str = String::leak(String::from("--output=/tmp/x"));
            assert!(Command::new("curl").arg(leaked).std().is_err());
            assert!(Command::new("curl").arg("--silent").std().is_ok());
        });
    }

    #[test]
    fn a_builder_builds_the_same_command_each_time() {
        let mut command = Command::new("printf");
        command
            .arg("%s-%s")
            .arg(7u8)
            .arg(String::from("x"))
            .env("A", "1");
        for _ in 0..2 {
            assert_eq!(command.std().unwrap().output().unwrap().stdout, b"7-x");
        }
        assert!(format!("{command:?}").contains("printf"));
    }
}

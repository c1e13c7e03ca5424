//! Injection detectors of rasp: pure functions from (sink text, recorded
//! input) to a finding.
//!
//! A detector never allocates and never panics on hostile text; it answers
//! one question — does this input change the *structure* of this sink text?
//! One module per sink class, and [`detect`] picks the module of a
//! [`SinkClass`]. The registry of classes ([`with_sink_classes!`]) lives
//! here too, at the bottom of rasp, so every other crate derives its
//! per-class lists from one table.
//!
//! This crate knows nothing of requests, policies or events, and the
//! compiler keeps it so: it depends on `memchr` and on `idna` (the UTS #46
//! mapping `url` applies to hosts, for hosts that are not ASCII) alone.
//! rasp-core records the
//! inputs, runs these detectors at each sink, and decides what a finding
//! means; users reach everything here through `rasp::detect`.

#![forbid(unsafe_code)]

use memchr::memmem::Finder;

/// What a detector looks for in a sink's text: an input's bytes and a way
/// to find them. memchr's [`Finder`] is one, built for any bytes; a
/// recorded input of rasp-core is another, searching with the small
/// searcher it was stored with, so a sink check builds nothing.
pub trait Needle {
    /// The input's bytes.
    fn needle(&self) -> &[u8];

    /// Where the input first occurs in `haystack`.
    fn find(&self, haystack: &[u8]) -> Option<usize>;
}

impl Needle for Finder<'_> {
    #[inline]
    fn needle(&self) -> &[u8] {
        Finder::needle(self)
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        Finder::find(self, haystack)
    }
}

mod class;
pub mod header;
pub mod html;
pub mod log;
pub mod path;
pub mod redirect;
pub mod shell;
pub mod span;
pub mod sql;
pub mod ssrf;

pub use class::SinkClass;

/// The first occurrence of the input searched by `finder` in `text`: the
/// prefilter every detector starts with, so an absent input costs one
/// substring search. An empty input, or one longer than the text, never
/// occurs.
#[inline]
pub(crate) fn first_occurrence(text: &[u8], finder: &dyn Needle) -> Option<usize> {
    let needle = finder.needle();
    if needle.is_empty() || needle.len() > text.len() {
        return None;
    }
    finder.find(text)
}

/// How many occurrences [`occurrences_before`] yields one byte apart before
/// it moves on to non-overlapping occurrences only.
pub(crate) const MAX_OVERLAPS: u32 = 64;

/// The occurrences of the input searched by `finder` in `text` that start
/// before `bound`, from `first` (an occurrence) on. The first
/// [`MAX_OVERLAPS`] may overlap; after them only non-overlapping ones are
/// yielded, which keeps a periodic input in a periodic text linear.
pub(crate) fn occurrences_before<'a>(
    text: &'a [u8],
    finder: &'a dyn Needle,
    first: usize,
    bound: usize,
) -> impl Iterator<Item = usize> + 'a {
    let len = finder.needle().len();
    let mut next = Some(first);
    let mut examined = 0u32;
    core::iter::from_fn(move || {
        let start = next.filter(|&start| start < bound)?;
        examined += 1;
        let from = if examined < MAX_OVERLAPS {
            start + 1
        } else {
            start + len
        };
        // A later occurrence matters only if it starts before `bound`.
        next = text
            .get(from..(bound + len - 1).min(text.len()))
            .and_then(|window| finder.find(window))
            .map(|at| at + from);
        Some(start)
    })
}

/// Why a detector flagged an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The input spans more than one token of the sink's grammar.
    SpansTokens,
    /// The input opens or closes a string literal or quoted identifier.
    BreaksLiteral,
    /// The input starts a comment.
    OpensComment,
    /// The input ends a statement and may start another.
    EndsStatement,
    /// The input leaves the sink text unterminated (an open literal or comment).
    Unterminated,
    /// The input adds a shell operator (`;`, `|`, `&`, redirection, newline).
    ShellOperator,
    /// The input opens a command substitution (`$( )`, backticks).
    CommandSubstitution,
    /// The input climbs out of the directory it was placed in (`..`).
    LeavesRoot,
    /// The input makes the path absolute (root, drive or UNC prefix).
    AbsolutePath,
    /// The input carries a NUL byte.
    NulByte,
    /// The input starts a command-line argument with `-`: the program reads
    /// it as an option (`--output=/etc/cron.d/x`), not as the operand it was
    /// meant to be.
    OptionInjection,
    /// The input is the command or script a program runs (`sh -c {input}`).
    ChoosesCommand,
    /// The input controls the scheme or authority of a URL.
    ControlsAuthority,
    /// The URL targets a loopback, private, link-local or metadata address.
    InternalAddress,
    /// The URL uses a scheme that reaches other protocols (`file:`, `gopher:` …).
    DangerousScheme,
    /// The input decides the scheme or host a redirect sends the browser to.
    OffSiteRedirect,
    /// The input makes a redirect target run script (`javascript:`, `data:`).
    ScriptScheme,
    /// The input adds a line break (CR or LF) to a header value.
    SplitsHeader,
    /// The input adds a control character to a header value.
    ControlCharacter,
    /// The input adds an attribute or a cookie to a `Set-Cookie` value, or
    /// a parameter or list element to any header value built with
    /// parameters (`;`, `,`).
    CookieAttribute,
    /// The input adds a line break to a log line (CR, LF, NEL, U+2028 …),
    /// so what follows reads as another log event.
    ForgesLogLine,
    /// The input adds a terminal control to a log line (ESC, CSI, another
    /// C0 or C1 control, DEL).
    TerminalEscape,
    /// The input opens or closes an HTML tag, or ends a comment or a
    /// raw-text element (`<script`, `</textarea`, `-->`).
    OpensTag,
    /// The input ends an HTML attribute value or tag name, or gives an
    /// attribute a value (`" onerror=`).
    BreaksAttribute,
    /// The input decides the scheme of a script URL in an HTML link or
    /// source attribute (`javascript:`, `data:text/html`).
    ScriptUrl,
    /// The detector failed, and the sink's policy refuses unchecked calls
    /// (`on_error = "closed"`).
    DetectorFailed,
    /// The request carried more input than its recording caps hold, so
    /// some of it could not be checked, and its limits refuse unchecked
    /// input (`[limits] on_exceeded = "block"`).
    InputsOverflowed,
    /// Not a detection: the policy's entry rules (block lists, circuit
    /// breaker) refused a `#[rasp::protect]` call before it ran. The
    /// `rasp::Blocked` names the protected fn as its `sink_id`; its `class`
    /// names no sink and should not be read.
    RefusedAtEntry,
    /// Not a detection: a rate limit of the policy's entry rules (or
    /// unavailable fleet state under `on_error = "closed"`) refused a
    /// `#[rasp::protect]` call before it ran; a later call may succeed.
    /// `sink_id` and `class` as for [`Reason::RefusedAtEntry`].
    Throttled,
}

impl Reason {
    /// Stable snake-case name, as used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::SpansTokens => "spans_tokens",
            Reason::BreaksLiteral => "breaks_literal",
            Reason::OpensComment => "opens_comment",
            Reason::EndsStatement => "ends_statement",
            Reason::Unterminated => "unterminated",
            Reason::ShellOperator => "shell_operator",
            Reason::CommandSubstitution => "command_substitution",
            Reason::LeavesRoot => "leaves_root",
            Reason::AbsolutePath => "absolute_path",
            Reason::NulByte => "nul_byte",
            Reason::OptionInjection => "option_injection",
            Reason::ChoosesCommand => "chooses_command",
            Reason::ControlsAuthority => "controls_authority",
            Reason::InternalAddress => "internal_address",
            Reason::DangerousScheme => "dangerous_scheme",
            Reason::OffSiteRedirect => "off_site_redirect",
            Reason::ScriptScheme => "script_scheme",
            Reason::SplitsHeader => "splits_header",
            Reason::ControlCharacter => "control_character",
            Reason::CookieAttribute => "cookie_attribute",
            Reason::ForgesLogLine => "forges_log_line",
            Reason::TerminalEscape => "terminal_escape",
            Reason::OpensTag => "opens_tag",
            Reason::BreaksAttribute => "breaks_attribute",
            Reason::ScriptUrl => "script_url",
            Reason::DetectorFailed => "detector_failed",
            Reason::InputsOverflowed => "inputs_overflowed",
            Reason::RefusedAtEntry => "refused_at_entry",
            Reason::Throttled => "throttled",
        }
    }

    /// A short human description.
    pub const fn describe(self) -> &'static str {
        match self {
            Reason::SpansTokens => "an input spans several tokens",
            Reason::BreaksLiteral => "an input breaks out of a quoted literal",
            Reason::OpensComment => "an input opens a comment",
            Reason::EndsStatement => "an input ends the statement",
            Reason::Unterminated => "an input leaves the text unterminated",
            Reason::ShellOperator => "an input adds a shell operator",
            Reason::CommandSubstitution => "an input opens a command substitution",
            Reason::LeavesRoot => "an input climbs out of its directory",
            Reason::AbsolutePath => "an input makes the path absolute",
            Reason::NulByte => "an input carries a NUL byte",
            Reason::OptionInjection => "an input is read as a command-line option",
            Reason::ChoosesCommand => "an input chooses the command that runs",
            Reason::ControlsAuthority => "an input controls the URL's scheme or host",
            Reason::InternalAddress => "the URL targets an internal address",
            Reason::DangerousScheme => "the URL uses a dangerous scheme",
            Reason::OffSiteRedirect => "an input sends the redirect off-site",
            Reason::ScriptScheme => "an input makes the redirect target run script",
            Reason::SplitsHeader => "an input adds a line break to a header",
            Reason::ControlCharacter => "an input adds a control character to a header",
            Reason::CookieAttribute => "an input adds a cookie attribute",
            Reason::ForgesLogLine => "an input adds a line break to a log line",
            Reason::TerminalEscape => "an input adds a terminal control sequence to a log line",
            Reason::OpensTag => "an input opens or closes an HTML tag or comment",
            Reason::BreaksAttribute => "an input breaks out of an HTML attribute",
            Reason::ScriptUrl => "an input puts a script URL in an HTML attribute",
            Reason::DetectorFailed => "the detector failed and the sink fails closed",
            Reason::InputsOverflowed => {
                "the request went past its input limits and was not fully checked"
            }
            Reason::RefusedAtEntry => "the entry rules refused the request",
            Reason::Throttled => "the request is over a rate limit",
        }
    }
}

/// A detection: which recorded input, where in the sink text, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// Index of the input among the request's recorded inputs.
    pub input: usize,
    /// Byte offset of the offending occurrence in the sink text.
    pub offset: usize,
    /// What the occurrence does to the sink text.
    pub reason: Reason,
}

/// Where and why one input changes one sink text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset of the offending occurrence in the sink text.
    pub offset: usize,
    /// What the occurrence does to the sink text.
    pub reason: Reason,
}

/// Runs the detector of sink class `class` on `text` for the input searched
/// by `finder`. `dialect` is read by SQL sinks only. Classes without a
/// detector (their sinks are guarded by types alone) never find anything.
#[inline]
pub fn detect(
    class: SinkClass,
    dialect: sql::Dialect,
    text: &[u8],
    finder: &dyn Needle,
) -> Option<Finding> {
    let (offset, reason) = match class {
        SinkClass::Sql => sql::detect(dialect, text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Shell => shell::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Path => path::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Url => ssrf::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Redirect => redirect::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Header => header::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Html => html::detect(text, finder).map(|f| (f.offset, f.reason))?,
        SinkClass::Log => log::detect(text, finder).map(|f| (f.offset, f.reason))?,
    };
    Some(Finding { offset, reason })
}

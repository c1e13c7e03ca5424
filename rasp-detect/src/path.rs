//! Path traversal detector.
//!
//! An application places an untrusted input into a file system path, most
//! often under a base directory (`format!("{root}/{input}")`,
//! `root.join(input)`) and sometimes as the whole path. The input is an
//! injection when one of its occurrences in the final path
//!
//! - carries a NUL byte: C APIs cut the path there, dropping whatever the
//!   application appended (`../../etc/passwd\0.png`) —
//!   [`Reason::NulByte`];
//! - makes the path absolute: the occurrence starts the path and the input
//!   starts with a root (`/…`, `\…`, `//…`, `\\server\share`, `\\?\…`) or a
//!   drive (`C:\…`, `C:/…`, `C:`) — [`Reason::AbsolutePath`]. This is also
//!   what `Path::join` produces when handed an absolute input: the base is
//!   dropped and the input becomes the whole path;
//! - climbs above the directory it was placed in —
//!   [`Reason::LeavesRoot`]. The segments the occurrence touches are walked
//!   with a depth counter that starts at zero: a name adds one, `.` and
//!   empty segments add nothing, `..` takes one away; going below zero
//!   climbs out. Segments are read in the final text, so a segment the input
//!   shares with the application (`report-` + `..` is the name
//!   `report-..`) counts as what it is.
//!
//! Both `/` and `\` separate segments: `\` is a separator on Windows and
//! only an unusual name byte elsewhere, where a segment `..` is never a name
//! anyway. Windows trims trailing dots and spaces from path components, so
//! `.. ` counts as `..`, and a segment made only of dots and spaces
//! (`...`, `....`) as `.`: it never earns depth, whatever the system, and a
//! lone `...` stays inside. Neither does a segment longer than any file
//! system allows (255 bytes), which cannot be a directory: padding one out
//! (`AAAA…A/../../etc/passwd`) is a known way past filters that count it.
//! `..` inside a name is just a name: `v1..v2.txt`, `..hidden`. `a/../b`
//! stays inside its directory and is fine, and so is a relative input
//! without `..` used as the whole path (`images/cat.png`).
//!
//! The detector reads the path the file system will see. Percent-encoding
//! (`%2e%2e%2f`) is not decoded: a file system takes `%2e%2e` as a literal
//! name. Decoding happens in the application's request parsing, before the
//! source records its input, so an encoded traversal is seen decoded — as
//! `../` — in both the input and the path. Symbolic links inside the base
//! directory are out of the detector's reach: it judges the text, not the
//! tree it names (the guarded `rasp::fs::Root` also resolves the path on
//! disk).

use crate::Needle;
#[cfg(test)]
use memchr::memmem::Finder;
use memchr::{memchr, memchr2, memchr3, memrchr2, memrchr3};

use crate::Reason;

/// How many occurrences overlapping their predecessor are examined before
/// the search moves to non-overlapping occurrences only, so that a periodic
/// input in a periodic path cannot make the detector quadratic.
const MAX_OVERLAPS: u32 = 64;

/// A finding of the path detector: the occurrence offset and why it is an
/// injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathFinding {
    /// Byte offset of the offending occurrence of the input in the path.
    pub offset: usize,
    /// What the occurrence does to the path.
    pub reason: Reason,
}

/// Whether the input searched by `finder` is a traversal in the file system
/// path `path`.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence that carries a NUL byte, makes the path absolute or climbs out
/// of the directory it was placed in (see the [module docs](self)), or
/// `None` — also when the input does not occur at all, which costs one
/// substring search, or is empty.
#[inline]
pub fn detect(path: &[u8], finder: &dyn Needle) -> Option<PathFinding> {
    let first = crate::first_occurrence(path, finder)?;
    scan(path, finder, first)
}

#[inline(never)]
fn scan(path: &[u8], finder: &dyn Needle, first: usize) -> Option<PathFinding> {
    let input = finder.needle();
    let found = |offset, reason| Some(PathFinding { offset, reason });
    if memchr(0, input).is_some() {
        return found(first, Reason::NulByte);
    }
    let len = input.len();
    if first == 0 && chooses_root(input) && !placed_again(path, finder, len) {
        return found(first, Reason::AbsolutePath);
    }
    let syntax = Syntax::of(path);
    let mut first_segment = FirstSegment::default();
    let mut overlaps = 0u32;
    let mut start = first;
    loop {
        if climbs_out(path, start, start + len, syntax, &mut first_segment) {
            return found(start, Reason::LeavesRoot);
        }
        let from = if overlaps < MAX_OVERLAPS {
            start + 1
        } else {
            start + len
        };
        let next = path.get(from..).and_then(|rest| finder.find(rest))? + from;
        if next < start + len {
            overlaps += 1;
        }
        start = next;
    }
}

/// Whether `input`, starting a path, decides where the path is rooted: a
/// root (`/`, `\`, which also covers `//host`, `\\server\share` and the
/// `\\?\` and `\\.\` device paths), a drive (`C:\…`, and the
/// drive-relative `C:x`, `C:..\x` and bare `C:`, which Windows resolves
/// against that drive's own current directory, never the application's), or
/// a `file:` URL, which URL-aware openers turn into an absolute path.
fn chooses_root(input: &[u8]) -> bool {
    match input {
        [b'/' | b'\\', ..] => true,
        [letter, b':', ..] if letter.is_ascii_alphabetic() => true,
        _ => has_file_scheme(input),
    }
}

/// Whether `text` starts with the `file:` scheme, in any letter case,
/// after the spaces and C0 controls a URL parser strips from the front.
fn has_file_scheme(text: &[u8]) -> bool {
    let lead = text.iter().take_while(|&&b| b <= b' ').count();
    text.get(lead..lead + 5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"file:"))
}

/// Whether the input also occurs after its occurrence at the start of the
/// path, without overlapping it. The application then wrote the start
/// itself — a base directory the input happens to spell
/// (`/var/data/` + `/var/data`) — and the input is where it occurs again.
fn placed_again(path: &[u8], finder: &dyn Needle, len: usize) -> bool {
    path.get(len..)
        .is_some_and(|rest| finder.find(rest).is_some())
}

/// How the path's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// A file system path: bytes are what the file system sees.
    Plain,
    /// A `file:` URL: its opener percent-decodes the path, so `%2e` is a
    /// dot and `%2f` or `%5c` a separator (WHATWG URL also reads `.%2e`
    /// as a `..` segment).
    FileUrl,
}

impl Syntax {
    fn of(path: &[u8]) -> Syntax {
        if has_file_scheme(path) {
            Syntax::FileUrl
        } else {
            Syntax::Plain
        }
    }

    /// Whether `b` ends the path: in a URL, the query or the fragment
    /// starts there, and what follows is no segment of the file's path.
    #[inline]
    fn ends_path(self, b: u8) -> bool {
        self == Syntax::FileUrl && (b == b'?' || b == b'#')
    }

    /// The byte the text at `at` stands for and how many bytes spell it:
    /// a percent-escape of a dot or a separator counts as that byte in a
    /// URL. Other escapes stay as written: an overlong `%c0%ae` is never a
    /// dot.
    #[inline]
    fn unit(self, path: &[u8], at: usize) -> Option<(u8, usize)> {
        let b = *path.get(at)?;
        if self == Syntax::FileUrl && b == b'%' {
            let decoded = match path.get(at + 1..at + 3) {
                Some([b'2', b'e' | b'E']) => Some(b'.'),
                Some([b'2', b'f' | b'F']) => Some(b'/'),
                Some([b'5', b'c' | b'C']) => Some(b'\\'),
                _ => None,
            };
            if let Some(decoded) = decoded {
                return Some((decoded, 3));
            }
        }
        Some((b, 1))
    }

    /// Where the first separator starting in `from..before` starts, and
    /// where the segment after it starts.
    #[inline]
    fn next_separator(self, path: &[u8], from: usize, before: usize) -> Option<(usize, usize)> {
        let whole = path;
        let path = path.get(..before)?;
        match self {
            Syntax::Plain => {
                let at = from + memchr2(b'/', b'\\', path.get(from..)?)?;
                Some((at, at + 1))
            }
            Syntax::FileUrl => {
                let mut at = from;
                loop {
                    at += memchr3(b'/', b'\\', b'%', path.get(at..)?)?;
                    // An escape cut by `before` is read whole.
                    match self.unit(whole, at)? {
                        (b, width) if is_separator(b) => return Some((at, at + width)),
                        (_, width) => at += width,
                    }
                }
            }
        }
    }

    /// Where the segment holding byte `at` starts, searching back no
    /// further than `floor` (`None` when it starts before).
    #[inline]
    fn segment_start(self, path: &[u8], floor: usize, at: usize) -> Option<usize> {
        let window = path.get(floor..at)?;
        match self {
            Syntax::Plain => memrchr2(b'/', b'\\', window).map(|k| floor + k + 1),
            Syntax::FileUrl => {
                let mut end = window.len();
                while let Some(k) = memrchr3(b'/', b'\\', b'%', &window[..end]) {
                    match self.unit(window, k) {
                        Some((b, width)) if is_separator(b) && k + width <= window.len() => {
                            return Some(floor + k + width);
                        }
                        _ => end = k,
                    }
                }
                None
            }
        }
    }
}

const fn is_separator(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

/// What a path segment does to the depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `..`: one level up.
    Up,
    /// Empty or `.`: stays.
    Stay,
    /// A name: one level down.
    Down,
}

/// Longest path component any common file system accepts (`NAME_MAX`
/// on Linux and the BSDs, 255 UTF-16 units on NTFS).
const NAME_MAX: usize = 255;

/// The step of the segment starting at `start`, which runs to the next
/// separator or the end.
///
/// `..` is [`Step::Up`], also followed by spaces and dots (`.. `, `.. .`:
/// Windows trims them) or by an NTFS stream suffix (`..::$DATA`, `..:x`):
/// only the name before the first `:` is read, as Windows reads it. A
/// segment that cannot be a directory earns no depth: one made only of dots
/// and spaces and starting with a dot (`...`, `. .`: Windows trims trailing
/// dots and spaces, leaving nothing) or one longer than [`NAME_MAX`], whose
/// `..` is the classic way to smuggle a traversal past filters that give
/// credit for the bogus directory. Only the first `NAME_MAX + 1` units are
/// looked at.
fn step(path: &[u8], start: usize, syntax: Syntax) -> Step {
    let mut at = start;
    let mut units = 0usize;
    // Units before the first `:`, once one is seen.
    let mut name_units: Option<usize> = None;
    let mut dots = 0usize;
    let mut spaces = false;
    let mut other = false;
    while let Some((b, width)) = syntax.unit(path, at) {
        if is_separator(b) || syntax.ends_path(b) {
            break;
        }
        if units == NAME_MAX {
            return Step::Stay;
        }
        units += 1;
        at += width;
        if name_units.is_some() {
            continue;
        }
        match b {
            b':' => name_units = Some(units - 1),
            b'.' if dots == units - 1 => dots += 1,
            b'.' => {}
            b' ' => spaces = true,
            _ => other = true,
        }
    }
    let name_units = name_units.unwrap_or(units);
    match () {
        () if other => Step::Down,
        () if units == 0 => Step::Stay,
        // `:stream` alone: a name on every system that has one.
        () if name_units == 0 => Step::Down,
        () if dots == 2 && (name_units == 2 || spaces) => Step::Up,
        // Dots and spaces only: what Windows trims them to is no directory.
        () => Step::Stay,
    }
}

/// The segment holding the previous occurrence's start, remembered so that
/// occurrences sharing one long segment do not each rescan it.
#[derive(Debug, Default)]
struct FirstSegment {
    /// Where the scan for separators has reached.
    scanned: usize,
    /// Start of the segment holding `scanned`.
    start: usize,
    /// That segment's step, once computed.
    step: Option<Step>,
}

impl FirstSegment {
    /// The start and step of the segment holding byte `at`.
    fn at(&mut self, path: &[u8], at: usize, syntax: Syntax) -> (usize, Step) {
        if let Some(start) = syntax.segment_start(path, self.scanned, at) {
            self.start = start;
            self.step = None;
        }
        self.scanned = self.scanned.max(at);
        let step = *self
            .step
            .get_or_insert_with(|| step(path, self.start, syntax));
        (self.start, step)
    }
}

/// Whether the occurrence `start..end` climbs above the directory holding
/// its first segment.
fn climbs_out(
    path: &[u8],
    start: usize,
    end: usize,
    syntax: Syntax,
    first: &mut FirstSegment,
) -> bool {
    let mut depth = 0i64;
    let mut apply = |step| {
        depth += match step {
            Step::Up => -1,
            Step::Stay => 0,
            Step::Down => 1,
        };
        depth < 0
    };
    // The segment the occurrence starts in, unless it starts on a
    // separator (then that segment is all the application's).
    let on_separator = syntax
        .unit(path, start)
        .is_none_or(|(b, _)| is_separator(b));
    if !on_separator && apply(first.at(path, start, syntax).1) {
        return true;
    }
    // Every segment starting inside the occurrence.
    let mut from = start;
    while let Some((_, segment)) = syntax.next_separator(path, from, end) {
        if segment >= end {
            return false;
        }
        if apply(step(path, segment, syntax)) {
            return true;
        }
        from = segment;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &str, input: &str) -> Option<Reason> {
        detect(path.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    #[test]
    fn flags_climbing_out() {
        assert_eq!(
            reason("/srv/files/../../etc/passwd", "../../etc/passwd"),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(
            reason("/srv/files/a/../../x", "a/../../x"),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(
            reason("/srv/files/..\\..\\win.ini", "..\\..\\win.ini"),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(
            reason("/srv/files/.. /x", ".. /x"),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(reason("../secret", "../secret"), Some(Reason::LeavesRoot));
        assert_eq!(
            reason("/srv/files/.../../x", ".../../x"),
            Some(Reason::LeavesRoot)
        );
        let padded = format!("{}/../x", "A".repeat(300));
        assert_eq!(
            reason(&format!("/srv/files/{padded}"), &padded),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(
            reason("/srv/files//..//x", "/..//x"),
            Some(Reason::LeavesRoot)
        );
    }

    #[test]
    fn allows_staying_inside() {
        for (path, input) in [
            ("/srv/files/a/../b", "a/../b"),
            ("/srv/files/v1..v2.txt", "v1..v2.txt"),
            ("/srv/files/..hidden", "..hidden"),
            ("/srv/files/...", "..."),
            ("/srv/files/..../x", "..../x"),
            ("/srv/files/report-../x", "../x"),
            ("/srv/files/...pdf", ".."),
            ("images/cat.png", "images/cat.png"),
            ("/srv/files//etc/passwd", "/etc/passwd"),
            ("/srv/files/%2e%2e%2fetc", "%2e%2e%2fetc"),
        ] {
            assert_eq!(reason(path, input), None, "{input:?} in {path:?}");
        }
    }

    #[test]
    fn flags_absolute_inputs_that_start_the_path() {
        for input in [
            "/etc/passwd",
            "\\windows\\win.ini",
            "C:\\boot.ini",
            "c:/x",
            "\\\\srv\\share",
            "//x",
        ] {
            assert_eq!(
                reason(input, input),
                Some(Reason::AbsolutePath),
                "{input:?}"
            );
        }
        assert_eq!(reason("C:", "C:"), Some(Reason::AbsolutePath));
        assert_eq!(reason("/srv/a:b.txt", "a:b.txt"), None);
    }

    #[test]
    fn flags_drive_relative_and_url_inputs_that_start_the_path() {
        for input in [
            "C:..\\..\\x",
            "D:secrets.txt",
            "\\\\?\\C:\\x",
            "\\\\.\\pipe\\x",
            "file:///etc/passwd",
            "FILE://server/share/x",
            " file:/etc/passwd",
        ] {
            assert_eq!(
                reason(input, input),
                Some(Reason::AbsolutePath),
                "{input:?}"
            );
            let suffixed = format!("{input}.json");
            assert_eq!(
                reason(&suffixed, input),
                Some(Reason::AbsolutePath),
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_input_spelling_the_applications_base_is_placed_under_it() {
        // The start is the application's own text; the input is where it
        // occurs again, under the base.
        assert_eq!(reason("/var/data//var/data", "/var/data"), None);
        assert_eq!(
            reason("/srv/app/files//srv/app/files", "/srv/app/files"),
            None
        );
        assert_eq!(reason("C:\\app\\C:\\app", "C:\\app"), None);
        // Placed again, it is still judged where it was placed.
        assert_eq!(
            reason("/var/data//var/data/../../../x", "/var/data/../../../x"),
            Some(Reason::LeavesRoot)
        );
        assert_eq!(
            reason("/etc/passwd", "/etc/passwd"),
            Some(Reason::AbsolutePath)
        );
    }

    #[test]
    fn reads_a_file_url_as_its_opener_decodes_it() {
        for input in ["%2e%2e/x", ".%2E/x", "..%2f..%2fx", "%2e%2e%5cx"] {
            let url = format!("file:///srv/files/{input}");
            assert_eq!(reason(&url, input), Some(Reason::LeavesRoot), "{input:?}");
            // A plain path keeps the escapes as names.
            let path = format!("/srv/files/{input}");
            assert_eq!(reason(&path, input), None, "{input:?}");
        }
        // An overlong dot is no dot, and the query is no part of the path.
        assert_eq!(
            reason("file:///srv/f/%c0%ae%c0%ae/x", "%c0%ae%c0%ae/x"),
            None
        );
        assert_eq!(reason("file:///srv/f/a?../../x", "a?../../x"), None);
        assert_eq!(
            reason("file:///srv/f/..?x", "..?x"),
            Some(Reason::LeavesRoot)
        );
    }

    #[test]
    fn reads_windows_trimming_and_streams() {
        for input in ["..::$DATA\\x", "..:x/y", ".. ./x", "..  \\x", " /../x"] {
            let path = format!("C:\\srv\\{input}");
            assert_eq!(reason(&path, input), Some(Reason::LeavesRoot), "{input:?}");
        }
        for input in ["a::$DATA", "notes:v2.txt", "...", ". ./a"] {
            let path = format!("C:\\srv\\{input}");
            assert_eq!(reason(&path, input), None, "{input:?}");
        }
    }

    #[test]
    fn flags_nul_bytes() {
        assert_eq!(reason("/srv/files/a\0.png", "a\0"), Some(Reason::NulByte));
    }

    fn st(path: &[u8], start: usize) -> Step {
        step(path, start, Syntax::Plain)
    }

    #[test]
    fn segment_steps() {
        assert_eq!(st(b"../x", 0), Step::Up);
        assert_eq!(st(b"..", 0), Step::Up);
        assert_eq!(st(b".  /x", 0), Step::Stay);
        assert_eq!(st(b"/x", 0), Step::Stay);
        assert_eq!(st(b"...", 0), Step::Stay);
        assert_eq!(st(b". .", 0), Step::Stay);
        assert_eq!(st(b"..a", 0), Step::Down);
        assert_eq!(st(b"a", 0), Step::Down);
        assert_eq!(st(b" ", 0), Step::Stay);
        assert_eq!(st("a".repeat(255).as_bytes(), 0), Step::Down);
        assert_eq!(st("a".repeat(256).as_bytes(), 0), Step::Stay);
    }

    #[test]
    fn stays_linear_on_long_segments() {
        let path = " ".repeat(1 << 20);
        assert_eq!(detect(path.as_bytes(), &Finder::new(b"  ")), None);
        let path = format!("x..{}", " ".repeat(1 << 20));
        assert_eq!(detect(path.as_bytes(), &Finder::new(b"  ")), None);
        let path = "a/".repeat(1 << 19);
        assert_eq!(detect(path.as_bytes(), &Finder::new(b"/a/a")), None);
    }
}

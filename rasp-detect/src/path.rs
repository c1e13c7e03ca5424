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
use memchr::{memchr, memchr2_iter, memrchr2};

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
    if first == 0 && is_absolute(input) {
        return found(first, Reason::AbsolutePath);
    }
    let len = input.len();
    let mut first_segment = FirstSegment::default();
    let mut overlaps = 0u32;
    let mut start = first;
    loop {
        if climbs_out(path, start, start + len, &mut first_segment) {
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

/// Whether `input`, starting a path, makes it absolute: a root (`/`, `\`,
/// which also covers `//host`, `\\server\share` and `\\?\` device paths) or
/// a drive letter followed by a separator or nothing.
fn is_absolute(input: &[u8]) -> bool {
    match input {
        [b'/' | b'\\', ..] => true,
        [letter, b':', rest @ ..] if letter.is_ascii_alphabetic() => {
            matches!(rest.first(), None | Some(b'/' | b'\\'))
        }
        _ => false,
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
/// `..` is [`Step::Up`], possibly followed by spaces (Windows trims them).
/// A segment that cannot be a directory earns no depth: one made only of
/// dots and spaces (`...`, `. .`: Windows trims trailing dots and spaces,
/// leaving nothing) or one longer than [`NAME_MAX`], whose `..` is the
/// classic way to smuggle a traversal past filters that give credit for
/// the bogus directory. Only the first `NAME_MAX + 1` bytes are looked at.
fn step(path: &[u8], start: usize) -> Step {
    let rest = path.get(start..).unwrap_or_default();
    let window = rest.get(..=NAME_MAX).unwrap_or(rest);
    let len = window
        .iter()
        .position(|&b| is_separator(b))
        .unwrap_or(window.len());
    let segment = window.get(..len).unwrap_or_default();
    if len > NAME_MAX {
        return Step::Stay;
    }
    let dots = segment.iter().take_while(|&&b| b == b'.').count();
    let only_dots_and_spaces = segment.iter().all(|&b| b == b'.' || b == b' ');
    match segment {
        [b'.', b'.', tail @ ..] if tail.iter().all(|&b| b == b' ') => Step::Up,
        _ if only_dots_and_spaces && (dots > 0 || segment.is_empty()) => Step::Stay,
        _ => Step::Down,
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
    fn at(&mut self, path: &[u8], at: usize) -> (usize, Step) {
        if let Some(k) = path
            .get(self.scanned..at)
            .and_then(|new| memrchr2(b'/', b'\\', new))
        {
            self.start = self.scanned + k + 1;
            self.step = None;
        }
        self.scanned = self.scanned.max(at);
        let step = *self.step.get_or_insert_with(|| step(path, self.start));
        (self.start, step)
    }
}

/// Whether the occurrence `start..end` climbs above the directory holding
/// its first segment.
fn climbs_out(path: &[u8], start: usize, end: usize, first: &mut FirstSegment) -> bool {
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
    if path.get(start).is_some_and(|&b| !is_separator(b)) && apply(first.at(path, start).1) {
        return true;
    }
    // Every segment starting inside the occurrence.
    let occurrence = path.get(start..end).unwrap_or_default();
    memchr2_iter(b'/', b'\\', occurrence)
        .map(|k| start + k + 1)
        .filter(|&segment| segment < end)
        .any(|segment| apply(step(path, segment)))
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
        assert_eq!(reason("a:b.txt", "a:b.txt"), None);
    }

    #[test]
    fn flags_nul_bytes() {
        assert_eq!(reason("/srv/files/a\0.png", "a\0"), Some(Reason::NulByte));
    }

    #[test]
    fn segment_steps() {
        assert_eq!(step(b"../x", 0), Step::Up);
        assert_eq!(step(b"..", 0), Step::Up);
        assert_eq!(step(b".  /x", 0), Step::Stay);
        assert_eq!(step(b"/x", 0), Step::Stay);
        assert_eq!(step(b"...", 0), Step::Stay);
        assert_eq!(step(b". .", 0), Step::Stay);
        assert_eq!(step(b"..a", 0), Step::Down);
        assert_eq!(step(b"a", 0), Step::Down);
        assert_eq!(step(b" ", 0), Step::Down);
        assert_eq!(step("a".repeat(255).as_bytes(), 0), Step::Down);
        assert_eq!(step("a".repeat(256).as_bytes(), 0), Step::Stay);
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

//! The path detector against resolvers: every generated input is placed the
//! way applications place one (under a POSIX root, under a Windows root,
//! under a `file:` URL, as the whole path), the path is resolved, and the
//! detector must flag exactly the inputs whose path leaves the root.
//!
//! Resolvers:
//!
//! - POSIX: a lexical normaliser over `/`, cross-checked against the real
//!   file system (`std::fs::canonicalize` in a temporary tree of plain
//!   directories, where the two must agree) in
//!   `the_posix_normaliser_agrees_with_the_file_system`;
//! - Windows: the rules of Rust's `std::path` for Windows paths — a path
//!   with a prefix (`C:`, `\\server\share`, `\\?\`, `\\.\`) or a root
//!   replaces the base when joined, so it leaves the application's
//!   directory — and Win32's normalisation of `/` and `\` separators,
//!   `.` and `..` components, and trailing spaces of a component;
//! - `file:` URLs: the WHATWG parser of the `url` crate and
//!   `Url::to_file_path`, which percent-decodes the path.
//!
//! `RASP_ORACLE_CASES` sets the number of generated inputs (default 20 000).

use memchr::memmem::Finder;
use rasp_detect::path::detect;

/// Pieces inputs are made of: separators, dot runs, encodings a URL opener
/// decodes (and an overlong one it must not), drive and stream syntax.
const PIECES: &[&str] = &[
    "..", ".", "/", "\\", "a", "b", " ", "...", ".. ", "%2e", "%2E", "%2f", "%5c", ":", "::$DATA",
    "C:", "d:", "file:", "//", "\\\\", "?", "x.txt", "%c0%ae", "~", "\\\\?\\", "\\\\.\\",
];

/// A small deterministic generator (xorshift64*), so a failing case is
/// reproduced by its number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn input(rng: &mut Rng) -> String {
    let pieces = 1 + rng.below(6);
    (0..pieces)
        .map(|_| PIECES[rng.below(PIECES.len())])
        .collect()
}

/// Where an application puts the input.
#[derive(Debug, Clone, Copy)]
enum Placement {
    /// `/qq/zz/{input}`.
    PosixRoot,
    /// `C:\qq\zz\{input}`.
    WindowsRoot,
    /// `file:///qq/zz/{input}`.
    FileUrl,
    /// `{input}` and `{input}.txt`, opened from the root as working
    /// directory.
    Whole,
}

/// The root directory's components, as the resolvers compare them.
const ROOT: [&[u8]; 2] = [b"qq", b"zz"];

/// Whether the components left after resolving `segments` from `root`
/// still start with `root`: `..` drops one, `.` and empty ones none.
fn stays<'a>(
    root: &[&'a [u8]],
    segments: impl Iterator<Item = &'a [u8]>,
    is_dot_dot: impl Fn(&[u8]) -> bool,
    is_dot: impl Fn(&[u8]) -> bool,
) -> bool {
    let mut components = root.to_vec();
    for segment in segments {
        if is_dot_dot(segment) {
            components.pop();
        } else if !is_dot(segment) {
            components.push(segment);
        }
    }
    components.len() >= root.len() && components[..root.len()] == *root
}

/// POSIX: `path` (absolute, or relative to the root) split at `/`.
fn posix_stays(path: &[u8]) -> bool {
    let (root, body): (&[&[u8]], _) = match path.strip_prefix(b"/") {
        Some(body) => (&[], body),
        None => (&ROOT, path),
    };
    let components = stays(
        root,
        body.split(|&b| b == b'/'),
        |s| s == b"..",
        |s| s.is_empty() || s == b".",
    );
    // Resolved from `/`, the path must come back through the root.
    components && (!root.is_empty() || starts_with_root(body))
}

fn starts_with_root(body: &[u8]) -> bool {
    let mut components: Vec<&[u8]> = Vec::new();
    for segment in body.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                components.pop();
            }
            name => components.push(name),
        }
    }
    components.len() >= 2 && components[..2] == ROOT
}

/// Windows (Rust's `std::path` for prefixes and roots, Win32 for the
/// rest): `body`, the input's part, resolved under `root`. A body with a
/// prefix (`C:`, `\\server\share`, `\\?\`, `\\.\`) or a root leaves the
/// base when it starts the path (`start`): `PathBuf::push` replaces the
/// base with it, and a drive-relative `C:x` is resolved against drive C's
/// own current directory.
fn windows_stays(root: &[&[u8]], body: &[u8], start: bool) -> bool {
    let rooted = matches!(body.first(), Some(b'/' | b'\\'));
    let prefixed = body.len() >= 2 && body[0].is_ascii_alphabetic() && body[1] == b':';
    if start && (rooted || prefixed) {
        return false;
    }
    stays(
        root,
        body.split(|&b| b == b'/' || b == b'\\'),
        |s| s.trim_ascii_end() == b"..",
        |s| s.trim_ascii_end().is_empty() || s.trim_ascii_end() == b".",
    )
}

/// A `file:` URL opener: the WHATWG parser, then `Url::to_file_path`,
/// which percent-decodes the path.
fn url_stays(text: &str, start: bool) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return true;
    };
    if url.scheme() != "file" {
        return true;
    }
    if start {
        return false;
    }
    let Ok(path) = url.to_file_path() else {
        // A host: a UNC path on Windows, refused elsewhere.
        return false;
    };
    use std::os::unix::ffi::OsStrExt;
    posix_stays(path.as_os_str().as_bytes())
}

/// Whether the placed input leaves the root, by the resolvers.
fn leaves(placement: Placement, text: &str, input: &str) -> bool {
    let input = input.as_bytes();
    match placement {
        Placement::PosixRoot => {
            !posix_stays(text.as_bytes()) || !windows_stays(&ROOT, input, false)
        }
        Placement::WindowsRoot => !windows_stays(&ROOT, input, false),
        Placement::FileUrl => !url_stays(text, false),
        Placement::Whole => {
            let body = text.as_bytes();
            let relative = body.first() != Some(&b'/');
            let stays = relative
                && posix_stays(body)
                && windows_stays(&ROOT, body, true)
                && url_stays(text, true);
            !stays
        }
    }
}

fn cases() -> usize {
    std::env::var("RASP_ORACLE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn the_detector_agrees_with_the_resolvers() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut total, mut agree, mut detector_only, mut oracle_only) = (0, 0, 0, 0);
    let mut samples = Vec::new();
    let mut conservative = Vec::new();
    for _ in 0..cases() {
        let input = input(&mut rng);
        if input.len() < 2 {
            continue;
        }
        for (placement, text) in [
            (Placement::PosixRoot, format!("/qq/zz/{input}")),
            (Placement::WindowsRoot, format!("C:\\qq\\zz\\{input}")),
            (Placement::FileUrl, format!("file:///qq/zz/{input}")),
            (Placement::Whole, input.clone()),
            (Placement::Whole, format!("{input}.txt")),
        ] {
            total += 1;
            let oracle = leaves(placement, &text, &input);
            let flagged = detect(text.as_bytes(), &Finder::new(input.as_bytes())).is_some();
            match (flagged, oracle) {
                (a, b) if a == b => agree += 1,
                (true, false) => detector_only += 1,
                _ => oracle_only += 1,
            }
            if flagged && !oracle && conservative.len() < 60 && rng.below(20) == 0 {
                conservative.push(format!("{placement:?} {text:?} input {input:?}"));
            }
            if !flagged && oracle && samples.len() < 40 {
                samples.push(format!(
                    "{placement:?} {text:?} input {input:?}: detector {flagged}"
                ));
            }
        }
    }
    eprintln!(
        "path oracle: {total} cases, {agree} agree, {detector_only} detector-only, {oracle_only} oracle-only"
    );
    eprintln!("a sample of detector-only flags:");
    for sample in &conservative {
        eprintln!("  {sample}");
    }
    assert_eq!(oracle_only, 0, "missed traversals:\n{}", samples.join("\n"));
}

/// The POSIX normaliser above against the kernel: each input's directories
/// are created under a real root, and `std::fs::canonicalize` says where
/// the path lands. Inputs whose `..` would reach above the temporary
/// directory are skipped (nothing is created outside it).
#[test]
fn the_posix_normaliser_agrees_with_the_file_system() {
    let base = std::env::temp_dir().join(format!("rasp-path-oracle-{}", std::process::id()));
    let root = base.join("qq").join("zz");
    std::fs::create_dir_all(&root).unwrap();
    let canonical_root = std::fs::canonicalize(&root).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut compared, mut agree) = (0, 0);
    for _ in 0..(cases() / 10).max(200) {
        let input = input(&mut rng);
        let relative = format!("qq/zz/{input}");
        // Create every directory the path names, from the base down.
        let mut depth = 0usize;
        let mut current = base.clone();
        let mut inside = true;
        for segment in relative.split('/') {
            match segment {
                "" | "." => {}
                ".." if depth == 0 => inside = false,
                ".." => {
                    depth -= 1;
                    current.pop();
                }
                name => {
                    depth += 1;
                    current.push(name);
                    let _ = std::fs::create_dir(&current);
                }
            }
        }
        if !inside {
            continue;
        }
        let Ok(resolved) = std::fs::canonicalize(base.join(&relative)) else {
            continue;
        };
        compared += 1;
        let kernel = resolved.starts_with(&canonical_root);
        if kernel == posix_stays(format!("/{relative}").as_bytes()) {
            agree += 1;
        } else {
            panic!("{input:?}: kernel says inside = {kernel}");
        }
    }
    std::fs::remove_dir_all(&base).unwrap();
    eprintln!("posix normaliser: {compared} compared, {agree} agree");
    assert!(compared > 50, "too few cases reached the file system");
}

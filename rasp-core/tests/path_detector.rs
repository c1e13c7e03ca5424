//! The path traversal detector on realistic paths: traversals it must flag,
//! benign file names it must let through, and hostile text it must survive.

mod sanitizer_support;

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::Reason;
use rasp_core::detect::path::detect;

fn reason(path: &str, input: &str) -> Option<Reason> {
    detect(path.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
}

const ROOTS: &[&str] = &[
    "/var/lib/app/media/",
    "./data/uploads/",
    "assets/",
    "C:\\ProgramData\\App\\files\\",
    "/srv/exports/tenant-9/",
];

#[test]
fn flags_climbing_out_of_the_base_directory() {
    let inputs = [
        "../config.toml",
        "../../../../../../etc/shadow",
        "..\\..\\..\\windows\\system.ini",
        "..\\/..\\/boot.ini",
        "./../secrets",
        "docs/../../secrets",
        "a/b/c/../../../../x",
        "..",
        "../",
        "..//..//x",
        ".. /.. /x",
        "..../../x",
        "./.../../x",
    ];
    for root in ROOTS {
        for input in inputs {
            let path = format!("{root}{input}");
            assert_eq!(
                reason(&path, input),
                Some(Reason::LeavesRoot),
                "{input:?} in {path:?}"
            );
        }
    }
}

#[test]
fn flags_padding_that_hides_a_climb() {
    // A component longer than any file system accepts cannot be a
    // directory to come back out of.
    let input = format!("{}/../../x", "B".repeat(400));
    let path = format!("/var/lib/app/media/{input}");
    assert_eq!(reason(&path, &input), Some(Reason::LeavesRoot));
}

#[test]
fn flags_absolute_inputs_used_as_the_path() {
    for input in [
        "/proc/self/environ",
        "/home/app/.aws/credentials",
        "//etc/hosts",
        "\\Windows\\win.ini",
        "\\\\fileserver\\share\\payroll.xlsx",
        "\\\\?\\C:\\Windows\\win.ini",
        "D:\\backups\\db.bak",
        "d:/backups/db.bak",
        "Z:",
    ] {
        assert_eq!(
            reason(input, input),
            Some(Reason::AbsolutePath),
            "{input:?}"
        );
        // `Path::join` with an absolute input drops the base: same text.
        let with_suffix = format!("{input}.json");
        assert_eq!(
            reason(&with_suffix, input),
            Some(Reason::AbsolutePath),
            "{input:?}"
        );
    }
}

#[test]
fn flags_nul_bytes() {
    for input in ["avatar.png\0", "../x\0", "a\0b"] {
        let path = format!("/var/lib/app/media/{input}.jpg");
        assert_eq!(reason(&path, input), Some(Reason::NulByte), "{input:?}");
    }
}

#[test]
fn allows_names_that_stay_inside() {
    let inputs = [
        "invoice-2024-001.pdf",
        "reports/2024/q3/summary.xlsx",
        "v2..v3.diff",
        "..env.example",
        "notes..txt",
        "...",
        "....",
        "a/../b.txt",
        "a/b/../../c.txt",
        "./readme.md",
        "my file (final).docx",
        "résumé.pdf",
        "日本語/ファイル.txt",
        "100% done.txt",
        "%2e%2e%2fetc%2fpasswd",
        "..%5c..%5cwindows",
        "~/.bashrc",
        "a:b.txt",
        "C\\:x",
    ];
    for root in ROOTS {
        for input in inputs {
            let path = format!("{root}{input}");
            assert_eq!(reason(&path, input), None, "{input:?} in {path:?}");
        }
    }
}

#[test]
fn allows_relative_inputs_used_as_the_whole_path() {
    for input in ["images/cat.png", "docs/guide/intro.md", "a/./b", "x/../y"] {
        assert_eq!(reason(input, input), None, "{input:?}");
    }
}

#[test]
fn allows_absolute_inputs_placed_under_a_base() {
    // `format!("{root}/{input}")` keeps the base: `/srv/x//etc/passwd`
    // is still under `/srv/x`.
    let path = "/srv/exports/tenant-9//etc/passwd";
    assert_eq!(reason(path, "/etc/passwd"), None);
}

#[test]
fn reads_segments_the_input_shares_with_the_application() {
    // `report-` + `..` is the name `report-..`, and `..` + `.pdf` the name
    // `...pdf`; but `.` + `./y` is `../y`.
    assert_eq!(reason("/srv/x/report-../y", "../y"), None);
    assert_eq!(reason("/srv/x/...pdf", ".."), None);
    assert_eq!(reason("/srv/x/../y", "./y"), Some(Reason::LeavesRoot));
}

#[test]
fn survives_hostile_text_in_linear_time() {
    let mb = 1 << 20;
    let cases: Vec<(String, &str)> = vec![
        ("a".repeat(mb), "aa"),
        ("/".repeat(mb), "//"),
        ("./".repeat(mb / 2), "/./."),
        ("a/".repeat(mb / 2), "/a/a"),
        (format!("x{}", " ".repeat(mb)), "  "),
        (format!("..{}", " ".repeat(mb)), "  "),
        (".".repeat(mb), "..."),
    ];
    for (text, input) in &cases {
        let _ = detect(text.as_bytes(), &Finder::new(input.as_bytes()));
    }
}

proptest! {
    #[test]
    fn never_panics(text in proptest::collection::vec(any::<u8>(), 0..256), from in 0usize..256, len in 0usize..32) {
        let start = from.min(text.len());
        let end = (start + len).min(text.len());
        let input = &text[start..end];
        if let Some(f) = detect(&text, &Finder::new(input)) {
            prop_assert!(text[f.offset..].starts_with(input));
        }
    }

    #[test]
    fn plain_relative_names_are_never_flagged(
        input in "[A-Za-z0-9 _-]{1,12}(/[A-Za-z0-9_-][A-Za-z0-9 ._-]{0,11}){0,4}"
    ) {
        let path = format!("/var/lib/app/media/{input}");
        prop_assert_eq!(reason(&path, &input), None);
    }
}

proptest! {
    /// The base directory is written with digits, which the inputs lack,
    /// so that an input cannot occur in it by coincidence (`/s` in
    /// `/srv`); inputs are at least two bytes long, as checked inputs are.
    #[test]
    fn sanitized_segments_are_never_flagged(input in "[./\\\\ :a-zA-Z\u{0}\u{1}]{2,16}") {
        let segment = sanitizer_support::sanitized::<rasp_core::Path>(input.as_str());
        for path in [
            format!("/0/1/{segment}"),
            format!("/0/1/{segment}/2.html"),
            segment.clone(),
        ] {
            prop_assert_eq!(reason(&path, &input), None, "{:?} -> {:?}", input, path);
        }
    }
}

#[test]
fn sanitized_dot_segments_stay_inside() {
    for input in ["..", ".. ", "...", ". .", " .. ", "..\t"] {
        let segment = sanitizer_support::sanitized::<rasp_core::Path>(input);
        let path = format!("/0/1/{segment}/x");
        assert_eq!(reason(&path, input), None, "{input:?} -> {path:?}");
    }
}

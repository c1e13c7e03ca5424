//! Path traversal against real files.
//!
//! A download handler serves `files/{name}` from a temporary directory that
//! also holds `secret.txt` next to `files/`, and a link `files/shortcut`
//! that points at the secret. Without rasp, `../secret.txt`, its decoded
//! forms (`..%2f`, double-encoded `..%252f`), the secret's absolute path
//! and the link all read the secret. With `rasp::fs::Root` each is refused
//! with `Blocked`, for `std::fs`, `tokio::fs` and a `cap_std` directory
//! handle, while `v1..v2.txt`, `a/b.txt` and `..foo` are served.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rasp::fs::{FsError, Root};
use rasp::{Blocked, Reason};
use tempfile::TempDir;

const SECRET: &str = "s3cret";

struct Site {
    _dir: TempDir,
    files: PathBuf,
    secret: PathBuf,
}

fn site() -> Site {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("a")).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::write(files.join("v1..v2.txt"), "changes").unwrap();
    std::fs::write(files.join("a/b.txt"), "nested").unwrap();
    std::fs::write(files.join("..foo"), "dotted").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, files.join("shortcut")).unwrap();
    Site {
        _dir: dir,
        files,
        secret,
    }
}

/// A request whose query string the application decodes itself,
/// `decodes` times (once is usual; twice is the double-decoding bug that
/// double encoding exploits).
struct Request {
    query: String,
    decodes: usize,
}

impl Request {
    fn new(query: impl Into<String>, decodes: usize) -> Self {
        Request {
            query: query.into(),
            decodes,
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[rasp::source(kind = "http.query")]
fn name_param(req: &Request) -> String {
    decoded(req)
}

/// The query as the application decodes it.
fn decoded(req: &Request) -> String {
    let mut text = Cow::Borrowed(req.query.as_str());
    for _ in 0..req.decodes {
        text = Cow::Owned(percent_decode(&text));
    }
    text.into_owned()
}

/// The handler as written without rasp.
fn download_unguarded(files: &Path, req: &Request) -> std::io::Result<Vec<u8>> {
    std::fs::read(files.join(decoded(req)))
}

#[rasp::protect(route = "/download")]
fn download(root: &Root, req: &Request) -> Result<Vec<u8>, FsError> {
    root.read(name_param(req))
}

#[rasp::protect(route = "/download")]
async fn download_async(root: &Root, req: &Request) -> Result<Vec<u8>, FsError> {
    root.tokio().read(name_param(req)).await
}

/// The attacks that read the secret without rasp: the raw query, how many
/// times the application decodes it, and why rasp refuses it.
fn attacks(site: &Site) -> Vec<(String, usize, Reason)> {
    let mut attacks = vec![
        ("../secret.txt".to_owned(), 1, Reason::LeavesRoot),
        ("..%2fsecret.txt".to_owned(), 1, Reason::LeavesRoot),
        ("%2e%2e%2fsecret.txt".to_owned(), 1, Reason::LeavesRoot),
        ("..%252fsecret.txt".to_owned(), 2, Reason::LeavesRoot),
        ("a/../../secret.txt".to_owned(), 1, Reason::LeavesRoot),
        (
            site.secret.to_str().unwrap().to_owned(),
            1,
            Reason::AbsolutePath,
        ),
    ];
    if cfg!(unix) {
        attacks.push(("shortcut".to_owned(), 1, Reason::LeavesRoot));
    }
    attacks
}

fn refusal(result: Result<Vec<u8>, FsError>) -> Blocked {
    match result {
        Err(FsError::Refused(blocked)) => blocked,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn without_rasp_the_secret_is_read() {
    let site = site();
    for (query, decodes, _) in attacks(&site) {
        let body = download_unguarded(&site.files, &Request::new(&query, decodes));
        assert_eq!(body.unwrap(), SECRET.as_bytes(), "{query:?}");
    }
}

#[test]
fn with_rasp_the_secret_stays_out_of_reach() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    for (query, decodes, reason) in attacks(&site) {
        let blocked = refusal(download(&root, &Request::new(&query, decodes)));
        assert_eq!(blocked.reason, reason, "{query:?}");
        assert_eq!(blocked.sink_id, "fs.root");
    }
}

#[tokio::test]
async fn with_rasp_the_secret_stays_out_of_reach_under_tokio() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    for (query, decodes, reason) in attacks(&site) {
        let blocked = refusal(download_async(&root, &Request::new(&query, decodes)).await);
        assert_eq!(blocked.reason, reason, "{query:?}");
    }
}

#[rasp::protect(route = "/download")]
fn download_cap(root: &Root, req: &Request) -> Result<Vec<u8>, FsError> {
    let files = root.cap()?;
    files.read(name_param(req))
}

#[test]
fn with_rasp_and_cap_std_the_secret_stays_out_of_reach() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    for (query, decodes, reason) in attacks(&site) {
        let blocked = refusal(download_cap(&root, &Request::new(&query, decodes)));
        assert_eq!(blocked.reason, reason, "{query:?}");
    }
    let body = download_cap(&root, &Request::new("a/b.txt", 1)).unwrap();
    assert_eq!(body, b"nested");
}

#[test]
fn a_nul_byte_is_refused() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    let req = Request::new("..%2fsecret.txt%00.png", 1);
    // `std` refuses a path with a NUL byte on its own, as an I/O error
    // that says nothing about an attack; rasp names it.
    let unguarded = download_unguarded(&site.files, &req).unwrap_err();
    assert_eq!(unguarded.kind(), std::io::ErrorKind::InvalidInput);
    let blocked = refusal(download(&root, &req));
    assert_eq!(blocked.reason, Reason::NulByte);
}

#[test]
fn ordinary_names_are_served() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    for (name, body) in [
        ("v1..v2.txt", "changes"),
        ("a/b.txt", "nested"),
        ("..foo", "dotted"),
        ("a/../v1..v2.txt", "changes"),
        ("a%2fb.txt", "nested"),
    ] {
        let got = download(&root, &Request::new(name, 1)).unwrap();
        assert_eq!(got, body.as_bytes(), "{name:?}");
    }
    let missing = download(&root, &Request::new("nope.txt", 1)).unwrap_err();
    assert!(matches!(missing, FsError::Io(_)), "{missing:?}");
}

#[tokio::test]
async fn ordinary_names_are_served_under_tokio() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    for (name, body) in [
        ("v1..v2.txt", "changes"),
        ("a/b.txt", "nested"),
        ("..foo", "dotted"),
    ] {
        let got = download_async(&root, &Request::new(name, 1)).await.unwrap();
        assert_eq!(got, body.as_bytes(), "{name:?}");
    }
}

#[rasp::protect(route = "/upload")]
fn upload(root: &Root, req: &Request, body: &str) -> Result<(), FsError> {
    root.write(name_param(req), body)
}

#[test]
fn writes_stay_inside_the_root() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    upload(&root, &Request::new("a%2fnew.txt", 1), "hello").unwrap();
    assert_eq!(
        std::fs::read_to_string(site.files.join("a/new.txt")).unwrap(),
        "hello"
    );
    let blocked = upload(&root, &Request::new("..%2fsecret.txt", 1), "owned").unwrap_err();
    assert_eq!(blocked.blocked().unwrap().reason, Reason::LeavesRoot);
    #[cfg(unix)]
    {
        // A link to a file that does not exist yet, outside the root.
        let outside = site.secret.with_file_name("planted.txt");
        std::os::unix::fs::symlink(&outside, site.files.join("drop")).unwrap();
        let blocked = upload(&root, &Request::new("drop", 1), "owned").unwrap_err();
        assert_eq!(blocked.blocked().unwrap().reason, Reason::LeavesRoot);
        assert!(!outside.exists());
        let blocked = upload(&root, &Request::new("shortcut", 1), "owned").unwrap_err();
        assert_eq!(blocked.blocked().unwrap().reason, Reason::LeavesRoot);
    }
    assert_eq!(std::fs::read_to_string(&site.secret).unwrap(), SECRET);
}

#[test]
fn sanitized_segments_and_joins_stay_inside() {
    let site = site();
    let root = Root::new(&site.files).unwrap();
    let name = rasp::Tainted::new(String::from("../secret.txt"), &rasp::SourceMeta::MANUAL);
    let segment = name.sanitize::<rasp::Path>();
    assert_eq!(segment, ".._secret.txt");
    let joined = root.join(segment).unwrap();
    assert_eq!(joined.parent(), Some(root.path()));
    assert!(matches!(root.join("../x"), Err(b) if b.reason == Reason::LeavesRoot));
}

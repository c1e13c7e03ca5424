//! What path sinks accept: literals and values reduced to one file-name
//! segment; `rasp::fs::Root` takes the relative path as text and checks it.

use rasp::{Blocked, PathSafe};

#[derive(Debug)]
struct FileError;

impl From<Blocked> for FileError {
    fn from(_: Blocked) -> Self {
        FileError
    }
}

#[rasp::source(kind = "http.query")]
fn file_name() -> String {
    "../../etc/passwd".to_owned()
}

#[rasp::sink(kind = "path", guard(name))]
fn serve(name: impl PathSafe) -> Result<Vec<u8>, FileError> {
    Ok(name.sink_text().unwrap_or(b"index.html").to_vec())
}

#[rasp::protect(route = "/files")]
fn files() -> Result<Vec<u8>, FileError> {
    serve("index.html")?;
    let segment = file_name().sanitize::<rasp::Path>();
    let dir = std::env::temp_dir();
    let root = rasp::fs::Root::new(&dir).map_err(|_| FileError)?;
    let joined = root.join(&segment)?;
    assert_eq!(joined.parent(), Some(root.path()));
    serve(segment)
}

fn main() {
    assert_eq!(files().unwrap(), b".._.._etc_passwd");
}

use rasp::{Blocked, PathSafe};

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
fn serve(name: impl PathSafe) -> Result<(), FileError> {
    let _ = name;
    Ok(())
}

fn main() {
    let _ = serve(file_name());
}

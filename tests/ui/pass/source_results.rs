//! Sources returning `Result` taint the `Ok` value only, also through type
//! aliases, early `return` and `?`.

use std::io;

use rasp::Tainted;

#[derive(Debug, PartialEq)]
struct BadRequest;

impl From<std::num::ParseIntError> for BadRequest {
    fn from(_: std::num::ParseIntError) -> Self {
        BadRequest
    }
}

type Result<T> = std::result::Result<T, BadRequest>;

#[rasp::source(kind = "http.path")]
fn page(raw: &str) -> Result<u32> {
    if raw.is_empty() {
        return Ok(1);
    }
    Ok(raw.parse::<u32>()?)
}

#[rasp::source(kind = "file")]
fn read(path: &str) -> io::Result<Vec<u8>> {
    std::fs::read(path)
}

#[rasp::source(kind = "http.query")]
fn optional(raw: Option<&str>) -> Option<String> {
    Some(raw?.to_owned())
}

fn main() {
    let first: Tainted<u32> = page("").unwrap();
    assert_eq!(first.inspect(|n| *n), 1);
    assert_eq!(page("x").unwrap_err(), BadRequest);
    assert!(read("/nonexistent/rasp").is_err());
    let none: Tainted<Option<String>> = optional(None);
    assert!(none.inspect(Option::is_none));
}

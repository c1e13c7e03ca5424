/// An application error that forgot `From<rasp::Blocked>`.
#[derive(Debug)]
struct AppError;

#[rasp::protect]
fn handler() -> Result<(), AppError> {
    Ok(())
}

#[rasp::protect]
fn page() -> impl std::fmt::Display {
    "page"
}

fn main() {}

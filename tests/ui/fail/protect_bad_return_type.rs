#[rasp::protect]
fn handler() -> Result<(), std::io::Error> {
    Ok(())
}

#[rasp::protect]
fn page() -> impl std::fmt::Display {
    "page"
}

fn main() {}

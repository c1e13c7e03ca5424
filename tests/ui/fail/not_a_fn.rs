#[rasp::source(kind = "config")]
const LIMIT: u32 = 10;

#[rasp::sink(kind = "sql", guard(q))]
struct Query {
    q: String,
}

#[rasp::protect]
const fn handler() -> Result<(), rasp::Blocked> {
    Ok(())
}

trait Repo {
    #[rasp::sink(kind = "sql", guard(q))]
    fn run(&self, q: &'static str) -> Result<(), rasp::Blocked>;
}

fn main() {}

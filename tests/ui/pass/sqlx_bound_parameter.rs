//! A tainted value goes to sqlx as a bound parameter through `rasp::bind`,
//! and string-built SQL through `rasp::sql`: both compile, no escape hatch.

#[rasp::source(kind = "http.query")]
fn name_param() -> String {
    "O'Brien".to_owned()
}

#[derive(Debug)]
#[allow(dead_code, reason = "the variant is what `?` converts into")]
enum AppError {
    Blocked(rasp::Blocked),
}

impl From<rasp::Blocked> for AppError {
    fn from(blocked: rasp::Blocked) -> Self {
        AppError::Blocked(blocked)
    }
}

fn main() -> Result<(), AppError> {
    let name = name_param();
    let _bound =
        sqlx::query::<sqlx::Sqlite>("SELECT id FROM users WHERE name = ?").bind(rasp::bind(name));
    let limit = 10;
    let _built =
        sqlx::query::<sqlx::Sqlite>(rasp::sql(format!("SELECT id FROM users LIMIT {limit}"))?);
    Ok(())
}

//! The three attributes on async fns.

use rasp::{Blocked, SqlSafe, Tainted};

#[derive(Debug)]
enum AppError {
    Blocked,
    Missing,
}

impl From<Blocked> for AppError {
    fn from(_: Blocked) -> Self {
        AppError::Blocked
    }
}

#[rasp::source(kind = "http.query")]
async fn term(q: Option<&str>) -> Result<String, AppError> {
    tokio::task::yield_now().await;
    let q = q.ok_or(AppError::Missing)?;
    if q.is_empty() {
        return Ok("all".to_owned());
    }
    Ok(q.to_owned())
}

#[rasp::sink(kind = "sql", guard(sql))]
async fn execute(sql: impl SqlSafe + Send) -> Result<u64, AppError> {
    tokio::task::yield_now().await;
    let _ = sql;
    Ok(1)
}

#[rasp::protect(route = "/search")]
async fn search(q: Option<&str>) -> Result<u64, AppError> {
    let term: Tainted<String> = term(q).await?;
    execute(term.sanitize::<rasp::Sql>()).await
}

struct Service {
    prefix: &'static str,
}

impl Service {
    #[rasp::source(kind = "http.header")]
    async fn tenant(&self, raw: &str) -> String {
        format!("{}{raw}", self.prefix)
    }

    #[rasp::sink(kind = "log", guard(line))]
    async fn log(&self, line: impl rasp::LogSafe + Send) -> Result<(), AppError> {
        let _ = (self.prefix, line);
        Ok(())
    }

    #[rasp::protect]
    async fn handle(&self, raw: &str) -> Result<usize, AppError> {
        let tenant = self.tenant(raw).await;
        self.log(tenant.clone().sanitize::<rasp::Log>()).await?;
        Ok(tenant.inspect(String::len))
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(assert_send(search(Some("books"))).await.unwrap(), 1);
    assert!(matches!(search(None).await, Err(AppError::Missing)));
    let service = Service { prefix: "t-" };
    assert_eq!(assert_send(service.handle("acme")).await.unwrap(), 6);
}

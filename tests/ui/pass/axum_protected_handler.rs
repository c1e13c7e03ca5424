//! `#[rasp::protect]` on axum handlers keeps axum's handler traits: the
//! handlers below route, pass `#[axum::debug_handler]` in either order,
//! take tainting extractors and return refusals with `?`.

use axum::Router;
use axum::routing::{get, post};
use rasp::axum::{BlockedResponse, RaspLayer, TaintedJson, TaintedQuery};
use rasp::{ContextFutureExt, SqlSafe, Tainted};

#[derive(serde::Deserialize)]
struct Search {
    q: String,
}

#[rasp::sink(kind = "sql", guard(sql))]
async fn execute(sql: impl SqlSafe + Send) -> Result<usize, BlockedResponse> {
    let _ = sql;
    Ok(1)
}

#[rasp::protect]
#[axum::debug_handler]
async fn search(TaintedQuery(search): TaintedQuery<Search>) -> Result<String, BlockedResponse> {
    let term: Tainted<String> = search.map(|s| s.q);
    let rows = execute(term.sanitize::<rasp::Sql>()).await?;
    Ok(rows.to_string())
}

#[axum::debug_handler]
#[rasp::protect(route = "/notes")]
async fn add_note(
    TaintedJson(note): TaintedJson<serde_json::Value>,
) -> Result<&'static str, BlockedResponse> {
    let len =
        tokio::spawn(async move { note.inspect(|n| n.to_string().len()) }.in_current_context())
            .await
            .unwrap_or(0);
    let _ = len;
    Ok("stored")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _app: Router = Router::new()
        .route("/search", get(search))
        .route("/notes", post(add_note))
        .layer(RaspLayer::new());
    let search = Tainted::new(
        Search {
            q: "books".to_owned(),
        },
        &rasp::SourceMeta::MANUAL,
    );
    assert_eq!(search_direct(search).await, "1");
}

async fn search_direct(term: Tainted<Search>) -> String {
    match search(TaintedQuery(term)).await {
        Ok(rows) => rows,
        Err(_) => unreachable!("a sanitized term is never blocked"),
    }
}

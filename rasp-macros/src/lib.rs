//! Macros of rasp: the attributes `#[rasp::source]`, `#[rasp::sink]` and
//! `#[rasp::protect]`, and the span-exact `rasp::sql!`, `rasp::shell!`,
//! `rasp::path!`, `rasp::url!`, `rasp::header!` and `rasp::redirect!`.
//!
//! Use them through the `rasp` facade crate; the expansions refer to
//! `::rasp::__private_v1` only. Internally the crate root parses and
//! dispatches; arguments are parsed in `attr`, the checks between
//! arguments and the annotated fn live in `valid`, and each macro's
//! expansion has its own module.
//!
//! A misused attribute never panics and never swallows the item: the
//! compiler gets the fn back as written, next to an error spanned at the
//! argument or signature part to fix.

mod attr;
mod body;
mod error;
mod func;
mod protect;
mod sink;
mod source;
mod splice;
mod valid;

use proc_macro::TokenStream;
use syn::parse::Parse;

use crate::error::Macro;
use crate::func::Func;

/// Marks a fn as a source of untrusted data.
///
/// The fn's return type `T` becomes `rasp::Tainted<T>`; for `Result<T, E>`
/// (and aliases such as `io::Result<T>`) the `Ok` value is tainted and the fn
/// returns `Result<Tainted<T>, E>`. Every value the fn returns, through any
/// `return` or `?`, is labelled with the source (its `kind`, path, file and
/// line) and its text is recorded in the current request context, where
/// guarded sinks look for it. Outside a request context nothing is recorded.
///
/// ```
/// use std::collections::HashMap;
///
/// struct Query(HashMap<String, String>);
///
/// #[rasp::source(kind = "http.query")]
/// fn search_term(query: &Query) -> String {
///     query.0.get("q").cloned().unwrap_or_default()
/// }
///
/// let query = Query(HashMap::from([("q".to_owned(), "books".to_owned())]));
/// let term: rasp::Tainted<String> = search_term(&query);
/// assert_eq!(term.source().kind, "http.query");
/// ```
///
/// Arguments:
///
/// * `kind = "…"` (required): what the source reads, e.g. `http.query`,
///   `http.header`, `queue.message`; reported in events.
///
/// The returned type must implement `rasp::Recordable` (strings, bytes,
/// numbers and containers of them do). Works on sync and async fns and
/// methods. The return type must be written out: `impl Trait` cannot be
/// wrapped.
#[proc_macro_attribute]
pub fn source(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Macro::Source, args, item, source::expand)
}

/// Marks a fn as a guarded sink: the place where text reaches a dangerous
/// API (a database, a shell, the file system, …).
///
/// ```
/// # #[derive(Debug)]
/// # struct AppError;
/// # impl From<rasp::Blocked> for AppError {
/// #     fn from(_: rasp::Blocked) -> Self { AppError }
/// # }
/// #[rasp::sink(kind = "sql", guard(query), id = "orders.count")]
/// fn count(query: impl rasp::SqlSafe) -> Result<u64, AppError> {
///     // hand `query` to the database driver
///     Ok(0)
/// }
///
/// count("SELECT count(*) FROM orders")?;
/// let site = rasp::registry::sink("orders.count").unwrap();
/// assert_eq!(site.guarded(), ["query"]);
/// # Ok::<(), AppError>(())
/// ```
///
/// The sink is registered (see `rasp::registry::sinks`), each guarded
/// parameter must implement the sink class's trust trait (`rasp::SqlSafe`
/// for `kind = "sql"`, `rasp::HtmlSafe` for `"html"`, …), and before the
/// body runs the text of each guarded argument is checked against the
/// inputs recorded in the current request context. A refused call returns
/// `Err(E::from(blocked))`, so the return type must be `Result<_, E>` with
/// `E: From<rasp::Blocked>`.
///
/// Arguments:
///
/// * `kind = "…"` (required): `sql`, `html`, `shell`, `path`, `url`,
///   `header`, `log` or `redirect`.
/// * `guard(a, b, …)` (required): the parameters that carry sink text.
/// * `id = "…"`: stable id for events and policies; defaults to the fn path.
/// * `dialect = "…"`: SQL sinks only; `generic` (default), `sqlite`,
///   `postgres`, `mysql` or `mariadb`.
///
/// Place `#[rasp::protect]` outside `#[rasp::sink]` when both are on one fn,
/// so the context is open when the check runs.
#[proc_macro_attribute]
pub fn sink(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Macro::Sink, args, item, sink::expand)
}

/// Runs a fn inside a request context: the entry point of a request
/// (a web handler, a queue consumer, a serverless handler).
///
/// ```
/// # #[derive(Debug)]
/// # struct AppError;
/// # impl From<rasp::Blocked> for AppError {
/// #     fn from(_: rasp::Blocked) -> Self { AppError }
/// # }
/// #[rasp::source(kind = "http.path")]
/// fn user_id(path: &str) -> String {
///     path.trim_start_matches("/users/").to_owned()
/// }
///
/// #[rasp::protect(route = "/users/{id}")]
/// fn show_user(path: &str) -> Result<String, AppError> {
///     let id: u64 = user_id(path).parse().map_err(|_| AppError)?;
///     let ctx = rasp::RequestContext::current().expect("inside the request");
///     assert_eq!(ctx.route(), Some("/users/{id}"));
///     assert_eq!(ctx.input_count(), 1);
///     Ok(format!("user {id}"))
/// }
///
/// assert_eq!(show_user("/users/42")?, "user 42");
/// # Ok::<(), AppError>(())
/// ```
///
/// The context holds the inputs recorded by sources while the fn runs, on
/// this thread for a sync fn and on every poll for an async fn (no async
/// runtime needed; use `rasp::ContextFutureExt::in_current_context` for
/// work handed to `tokio::spawn`). A protected fn called from another one
/// shares its context. The call runs inside a `rasp.protect` span on the
/// `rasp::security` target, and entry rules may refuse it, returning
/// `rasp::Blocked` through the fn's return type, which must therefore be
/// `Result<_, E>` with `E: From<rasp::Blocked>`.
///
/// Arguments:
///
/// * `route = "…"`: the route template, reported in events; defaults to
///   the fn path.
#[proc_macro_attribute]
pub fn protect(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Macro::Protect, args, item, protect::expand)
}

/// Parses the arguments and the item, reporting problems in both at once,
/// and expands; on any error the item is re-emitted unchanged.
fn expand<A: Parse>(
    attr: Macro,
    args: TokenStream,
    item: TokenStream,
    expand: fn(&A, &Func) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let args = syn::parse::<A>(args);
    let func = syn::parse2(item.clone()).and_then(|parsed| Func::from_item(parsed, attr));
    match error::join(args, func).and_then(|(args, func)| expand(&args, &func)) {
        Ok(expanded) => expanded.into(),
        Err(error) => error::with_item(error, item).into(),
    }
}

/// SQL text built from a literal template, with every argument's span
/// judged where it stands.
///
/// `format!` syntax (`{}`, `{0}`, `{name}`, named arguments, variables
/// captured by name); the template must be a string literal. Arguments are
/// `rasp::Tainted` text, `&str`/`String`, numbers, and values sanitized,
/// asserted or composed for SQL. The result is
/// `Result<rasp::CheckedSql, rasp::Blocked>`: the SQL detector judges
/// exactly the bytes each argument wrote, never the template's own text,
/// and needs no request context. Requires the `sqlx` feature.
///
/// ```
/// # fn main() -> Result<(), rasp::Blocked> {
/// let name = rasp::Tainted::new("O'Brien".to_string(), &rasp::SourceMeta::MANUAL);
/// let q = rasp::sql!("SELECT id FROM users WHERE name = '{}' OR a = 'x'", name);
/// assert!(q.is_err(), "the quote in the argument closes the literal");
///
/// let name = rasp::Tainted::new("GROUP BY".to_string(), &rasp::SourceMeta::MANUAL);
/// let q = rasp::sql!("SELECT tag, count(*) FROM t WHERE tag = '{name}' GROUP BY tag")?;
/// assert_eq!(q.as_str(), "SELECT tag, count(*) FROM t WHERE tag = 'GROUP BY' GROUP BY tag");
/// # Ok(()) }
/// ```
#[proc_macro]
pub fn sql(input: TokenStream) -> TokenStream {
    splice::expand(&splice::SQL, input.into()).into()
}

/// A shell script built from a literal template, with every argument's
/// span judged where it stands: `Result<rasp::process::CheckedScript,
/// rasp::Blocked>`. As [`sql!`](macro@sql) otherwise; requires the
/// `process` feature.
///
/// ```
/// let file = rasp::Tainted::new("q3 report.pdf".to_string(), &rasp::SourceMeta::MANUAL);
/// let script = rasp::shell!("wc -c < '{}'", file).unwrap();
/// assert_eq!(script.as_str(), "wc -c < 'q3 report.pdf'");
/// let file = rasp::Tainted::new("x'; touch /tmp/owned; '".to_string(), &rasp::SourceMeta::MANUAL);
/// assert!(rasp::shell!("wc -c < '{}'", file).is_err());
/// ```
#[proc_macro]
pub fn shell(input: TokenStream) -> TokenStream {
    splice::expand(&splice::SHELL, input.into()).into()
}

/// A path under a `rasp::fs::Root` built from a literal template, each
/// argument one segment: `rasp::path!(root, "users/{}/avatar.png", id)`.
///
/// The template is relative and never climbs with `..` of its own (both
/// are compile errors); an argument that adds a separator, a NUL or a
/// control character, or makes its segment `.` or `..`, is refused. The
/// result is the root's `join` of the text: `Result<PathBuf, Blocked>`.
/// Requires the `fs` feature.
///
/// ```
/// let dir = std::env::temp_dir();
/// let root = rasp::fs::Root::new(&dir).unwrap();
/// let id = rasp::Tainted::new("42".to_string(), &rasp::SourceMeta::MANUAL);
/// let path = rasp::path!(root, "users/{}/avatar.png", id).unwrap();
/// assert!(path.ends_with("users/42/avatar.png"));
/// let id = rasp::Tainted::new("../../etc".to_string(), &rasp::SourceMeta::MANUAL);
/// assert!(rasp::path!(root, "users/{}/avatar.png", id).is_err());
/// ```
#[proc_macro]
pub fn path(input: TokenStream) -> TokenStream {
    splice::expand(&splice::PATH, input.into()).into()
}

/// An outbound URL built from a literal template whose scheme (`http` or
/// `https`) and host are the template's own (compile errors otherwise);
/// each argument writes inside one path segment, the query or the
/// fragment, and is refused if it leaves it (a `/`, `?`, `#`, a dot
/// segment, a second query parameter, a space or a control character).
/// The result is `Result<rasp::http::CheckedUrl, rasp::http::Error>`, for
/// a `GuardedClient`. Requires the `reqwest` feature.
///
/// ```
/// let id = rasp::Tainted::new("42".to_string(), &rasp::SourceMeta::MANUAL);
/// let url = rasp::url!("https://api.example.com/users/{}/avatar?size={}", id, 64).unwrap();
/// assert_eq!(url.as_str(), "https://api.example.com/users/42/avatar?size=64");
/// let id = rasp::Tainted::new("../admin".to_string(), &rasp::SourceMeta::MANUAL);
/// assert!(rasp::url!("https://api.example.com/users/{}/avatar", id).is_err());
/// ```
#[proc_macro]
pub fn url(input: TokenStream) -> TokenStream {
    splice::expand(&splice::URL, input.into()).into()
}

/// A header value built from a literal template, each argument judged
/// where it stands: inside a `"…"` quoted-string (`filename="{}"`) a `"` or
/// `\` is refused, and everywhere a line break, NUL or control character
/// is. The result is `Result<http::HeaderValue, rasp::header::HeaderError>`.
/// Requires the `header` feature.
///
/// ```
/// let name = rasp::Tainted::new("q3 report.pdf".to_string(), &rasp::SourceMeta::MANUAL);
/// let value = rasp::header!("attachment; filename=\"{}\"", name).unwrap();
/// assert_eq!(value.as_bytes(), b"attachment; filename=\"q3 report.pdf\"");
/// let name = rasp::Tainted::new("a\"; evil=\"1".to_string(), &rasp::SourceMeta::MANUAL);
/// assert!(rasp::header!("attachment; filename=\"{}\"", name).is_err());
/// ```
#[proc_macro]
pub fn header(input: TokenStream) -> TokenStream {
    splice::expand(&splice::HEADER, input.into()).into()
}

/// A same-site redirect target built from a literal template that starts
/// with one `/` (anything else is a compile error); each argument stays in
/// its path segment, the query or the fragment, as in [`url!`](macro@url).
/// The result is `Result<rasp::redirect::Location, rasp::header::HeaderError>`.
/// Requires the `redirect` feature.
///
/// ```
/// let id = rasp::Tainted::new("17".to_string(), &rasp::SourceMeta::MANUAL);
/// let to = rasp::redirect!("/orders/{}", id).unwrap();
/// assert_eq!(to.as_bytes(), b"/orders/17");
/// let id = rasp::Tainted::new("../admin".to_string(), &rasp::SourceMeta::MANUAL);
/// assert!(rasp::redirect!("/orders/{}", id).is_err());
/// ```
#[proc_macro]
pub fn redirect(input: TokenStream) -> TokenStream {
    splice::expand(&splice::REDIRECT, input.into()).into()
}

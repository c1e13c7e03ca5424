//! Run-time behaviour of `#[rasp::source]`, `#[rasp::sink]` and
//! `#[rasp::protect]`: what sources record, what sinks refuse, what the
//! registry lists and what events say.
//!
//! The mode is process-global and tests run on parallel threads, so every
//! assertion that depends on it lives in [`block_and_monitor_modes`]; the
//! other tests hold for either mode.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rasp::{Blocked, ContextFutureExt, Mode, RequestContext, SinkClass, SqlSafe, Tainted};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

// ---------------------------------------------------------------------------
// An application in miniature.

struct Request {
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

#[derive(Debug)]
enum AppError {
    Blocked(Blocked),
    MissingHeader,
}

impl From<Blocked> for AppError {
    fn from(blocked: Blocked) -> Self {
        AppError::Blocked(blocked)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Blocked(b) => b.fmt(f),
            AppError::MissingHeader => f.write_str("missing header"),
        }
    }
}

const QUERY_PARAM_LINE: u32 = line!() + 2;
#[rasp::source(kind = "http.query")]
fn query_param(req: &Request) -> String {
    req.query.to_owned()
}

/// Early `return` and `?` both leave through the tainting wrapper.
#[rasp::source(kind = "http.header")]
fn header(req: &Request, name: &str) -> Result<String, AppError> {
    if name.is_empty() {
        return Ok(String::from("anonymous"));
    }
    let (_, value) = req
        .headers
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or(AppError::MissingHeader)?;
    Ok((*value).to_owned())
}

#[rasp::source(kind = "http.body")]
fn body_len(req: &Request) -> std::io::Result<usize> {
    Ok(req.query.len())
}

#[rasp::source(kind = "http.query")]
async fn query_param_async(req: &Request) -> String {
    tokio::task::yield_now().await;
    req.query.to_owned()
}

thread_local! {
    /// Calls of `execute` that reached its body, per test thread: tests run
    /// in parallel and only the thread's own calls may be counted.
    static EXECUTED: Cell<usize> = const { Cell::new(0) };
}

const EXECUTE_LINE: u32 = line!() + 2;
#[rasp::sink(kind = "sql", guard(sql), id = "tests.db.execute", dialect = "sqlite")]
fn execute(sql: impl SqlSafe) -> Result<usize, AppError> {
    EXECUTED.set(EXECUTED.get() + 1);
    Ok(sink_len(&sql))
}

#[rasp::sink(kind = "sql", guard(sql))]
async fn execute_async(sql: impl SqlSafe) -> Result<usize, AppError> {
    tokio::task::yield_now().await;
    Ok(sink_len(&sql))
}

fn sink_len(sql: &impl SqlSafe) -> usize {
    sql.sink_text().map_or(0, <[u8]>::len)
}

/// String-built SQL: the compiler was talked out of refusing it, so only
/// the runtime check stands between the input and the database.
fn search_sql(term: Tainted<String>) -> rasp::Asserted<String, rasp::Sql> {
    rasp::trust_unchecked!(
        term.map(|t| format!("SELECT id FROM items WHERE name = '{t}'")),
        rasp::Sql,
        "tests: string-built SQL left to the runtime check"
    )
}

#[rasp::protect(route = "/search")]
fn search(req: &Request) -> Result<usize, AppError> {
    let term = query_param(req);
    execute(search_sql(term))
}

#[rasp::protect(route = "/search")]
async fn search_async(req: &Request) -> Result<usize, AppError> {
    let term = query_param_async(req).await;
    execute_async(search_sql(term)).await
}

/// A sink method: the receiver is not guarded, the text parameter is.
struct Db {
    calls: AtomicUsize,
}

impl Db {
    #[rasp::sink(kind = "sql", guard(sql), id = "tests.db.method")]
    fn run(&self, sql: impl SqlSafe) -> Result<usize, AppError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(sink_len(&sql))
    }

    #[rasp::sink(kind = "sql", guard(sql, filter))]
    fn run_generic<Q, F>(&self, sql: Q, filter: F) -> Result<usize, AppError>
    where
        Q: SqlSafe,
        F: SqlSafe,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(sink_len(&sql) + sink_len(&filter))
    }
}

// ---------------------------------------------------------------------------
// Capturing what rasp reports.

#[derive(Debug, Clone)]
struct Record {
    span: bool,
    level: tracing::Level,
    target: String,
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Record>>>);

impl Capture {
    /// Captures on this thread until the guard is dropped.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }

    fn records(&self) -> Vec<Record> {
        self.0.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<Record> {
        self.records().into_iter().filter(|r| !r.span).collect()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Record {
            span: false,
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            name: event.metadata().name().to_owned(),
            fields,
        });
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Record {
            span: true,
            level: *attrs.metadata().level(),
            target: attrs.metadata().target().to_owned(),
            name: attrs.metadata().name().to_owned(),
            fields,
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const ATTACK: &str = "x' OR 'a'='a";

fn attack() -> Request {
    Request {
        query: ATTACK,
        headers: &[],
    }
}

fn benign() -> Request {
    Request {
        query: "widget",
        headers: &[],
    }
}

// ---------------------------------------------------------------------------
// Sources.

#[test]
fn source_records_its_value_inside_a_protected_call() {
    #[rasp::protect]
    fn handler(req: &Request) -> Result<Tainted<String>, AppError> {
        let term = query_param(req);
        let ctx = RequestContext::current().expect("protected call has a context");
        assert_eq!(ctx.input_count(), 1);
        let first = ctx.inputs().next().expect("one recorded input");
        assert_eq!(first.bytes(), b"widget");
        assert_eq!(first.source().kind, "http.query");
        Ok(term)
    }

    let term = handler(&benign()).unwrap();
    let source = term.source();
    assert_eq!(source.kind, "http.query");
    assert_eq!(source.fn_path, "macros::query_param");
    assert!(source.file.ends_with("macros.rs"), "{}", source.file);
    assert_eq!(source.line, QUERY_PARAM_LINE);
    assert_eq!(term.inspect(String::len), 6);
    assert!(
        RequestContext::current().is_none(),
        "context closed on return"
    );
}

#[test]
fn source_outside_a_context_records_nothing() {
    #[rasp::protect]
    fn handler(term: Tainted<String>) -> Result<usize, AppError> {
        assert_eq!(RequestContext::current().unwrap().input_count(), 0);
        execute(search_sql(term))
    }

    // Read before any request context exists: tainted, but not an input of
    // the request that later uses it, so the sink has nothing to look for
    // (in either mode).
    let term = query_param(&attack());
    assert_eq!(term.source().kind, "http.query");
    assert!(RequestContext::current().is_none());
    assert_eq!(handler(term).unwrap(), 36 + ATTACK.len());
}

#[test]
fn every_exit_of_a_source_is_tainted() {
    let req = Request {
        query: "q",
        headers: &[("x-user", "ann")],
    };
    let ctx = RequestContext::new();
    ctx.scope(|| {
        let user = header(&req, "x-user").unwrap();
        assert_eq!(user.source().kind, "http.header");
        let early = header(&req, "").unwrap();
        assert!(early.inspect(|v| v == "anonymous"));
        assert!(matches!(
            header(&req, "x-tenant"),
            Err(AppError::MissingHeader)
        ));
        let len: Tainted<usize> = body_len(&req).unwrap();
        assert_eq!(len.inspect(|n| *n), 1);
    });
    let recorded: Vec<&[u8]> = ctx.inputs().map(|i| i.bytes()).collect();
    assert_eq!(recorded, [b"ann".as_slice(), b"anonymous".as_slice()]);
}

// ---------------------------------------------------------------------------
// Sinks.

#[test]
fn trusted_values_pass_a_sink() {
    #[rasp::protect]
    fn handler(req: &Request) -> Result<usize, AppError> {
        let term = query_param(req);
        let mut n = execute("SELECT 1")?;
        n += execute(42_i64)?;
        n += execute(term.clone().sanitize::<rasp::Sql>())?;
        // Bound-parameter style: the SQL is a literal and the tainted value
        // only ever travels as a parameter.
        n += execute("SELECT id FROM items WHERE name = ?1")?;
        n += term.inspect(String::len);
        Ok(n)
    }

    let req = Request {
        query: ATTACK,
        headers: &[],
    };
    // The sanitized literal is `'x'' OR ''a''=''a'`: the raw input does not occur.
    assert_eq!(
        handler(&req).unwrap(),
        "SELECT 1".len()
            + "'x'' OR ''a''=''a'".len()
            + "SELECT id FROM items WHERE name = ?1".len()
            + ATTACK.len(),
        "numbers carry no text; literals do, and pass the check"
    );
    assert_eq!(search(&benign()).unwrap(), 42);
}

#[test]
fn sink_methods_and_generic_sinks_are_guarded() {
    let db = Db {
        calls: AtomicUsize::new(0),
    };
    let sanitized = || query_param(&benign()).sanitize::<rasp::Sql>();
    assert_eq!(db.run(sanitized()).unwrap(), "'widget'".len());
    assert_eq!(db.run_generic(sanitized(), 7_u8).unwrap(), "'widget'".len());
    assert_eq!(db.calls.load(Ordering::Relaxed), 2);
    let site = rasp::registry::sink("tests.db.method").expect("method sink registered");
    assert_eq!(site.guarded(), ["sql"]);
    let generic = rasp::registry::sink("macros::run_generic").expect("default id is the fn path");
    assert_eq!(generic.guarded(), ["sql", "filter"]);
}

#[test]
fn registry_lists_sinks_with_their_declaration() {
    let site = rasp::registry::sinks()
        .into_iter()
        .find(|s| s.id() == "tests.db.execute")
        .expect("execute is registered");
    assert_eq!(site.class(), SinkClass::Sql);
    assert_eq!(site.fn_path(), "macros::execute");
    assert_eq!(site.guarded(), ["sql"]);
    // `Guard` is not re-exported by the facade; its name is stable enough.
    assert_eq!(format!("{:?}", site.guard()), "Typed");
    assert_eq!(site.dialect(), rasp::Dialect::Sqlite);
    assert!(site.file().ends_with("macros.rs"), "{}", site.file());
    assert_eq!(site.line(), EXECUTE_LINE);

    let default = rasp::registry::sink("macros::execute_async").expect("default id");
    assert_eq!(default.dialect(), rasp::Dialect::Generic);
}

#[test]
fn escape_hatches_are_listed_with_reason_and_uses() {
    let reason = "tests: string-built SQL left to the runtime check";
    let hatch = || {
        rasp::registry::escape_hatches()
            .into_iter()
            .find(|h| h.reason == reason)
            .expect("hatch registered")
    };
    assert!(hatch().file.ends_with("macros.rs"));
    assert_eq!(hatch().module, "macros");
    let before = hatch().uses();
    let _ = search_sql(query_param(&benign()));
    assert!(hatch().uses() > before);
}

// ---------------------------------------------------------------------------
// Protect.

#[test]
fn nested_protect_reuses_the_outer_context() {
    #[rasp::protect(route = "/outer")]
    fn outer() -> Result<(String, (String, String)), AppError> {
        let id = RequestContext::current().unwrap().request_id().to_owned();
        let inner = inner()?;
        Ok((id, inner))
    }

    /// Request id and route of the context the call ran in.
    #[rasp::protect(route = "/inner")]
    fn inner() -> Result<(String, String), AppError> {
        let ctx = RequestContext::current().unwrap();
        Ok((ctx.request_id().to_owned(), ctx.route().unwrap().to_owned()))
    }

    let (outer_id, (inner_id, inner_route)) = outer().unwrap();
    assert_eq!(outer_id, inner_id);
    assert_eq!(inner_route, "/outer");
    // Alone, the inner fn opens its own context with its own route.
    let (alone_id, alone_route) = inner().unwrap();
    assert_ne!(alone_id, outer_id);
    assert_eq!(alone_route, "/inner");
}

#[test]
fn protect_without_a_route_uses_the_fn_path_and_opens_a_span() {
    #[rasp::protect]
    fn handler() -> Result<Option<String>, AppError> {
        Ok(RequestContext::current()
            .unwrap()
            .route()
            .map(str::to_owned))
    }

    let capture = Capture::default();
    let _guard = capture.install();
    assert_eq!(handler().unwrap().as_deref(), Some("macros::handler"));
    let span = capture
        .records()
        .into_iter()
        .find(|r| r.span && r.name == "rasp.protect")
        .expect("rasp.protect span");
    assert_eq!(span.target, "rasp::request");
    assert_eq!(span.level, tracing::Level::DEBUG);
    assert_eq!(span.fields["code.function"], "macros::handler");
    assert_eq!(span.fields["http.route"], "macros::handler");
    assert!(span.fields.contains_key("rasp.request.id"));
}

#[tokio::test]
async fn async_protect_carries_the_context_into_spawned_work() {
    #[rasp::protect(route = "/async")]
    async fn handler(req: &Request) -> Result<(String, String, usize), AppError> {
        let term = query_param_async(req).await;
        tokio::task::yield_now().await;
        let here = RequestContext::current().unwrap();
        let spawned = tokio::spawn(
            async {
                let ctx = RequestContext::current().expect("context carried along");
                (ctx.request_id().to_owned(), ctx.input_count())
            }
            .in_current_context(),
        )
        .await
        .unwrap();
        assert_eq!(term.source().kind, "http.query");
        Ok((here.request_id().to_owned(), spawned.0, spawned.1))
    }

    let (here, there, inputs) = handler(&benign()).await.unwrap();
    assert_eq!(here, there);
    assert_eq!(inputs, 1);
    assert!(RequestContext::current().is_none());
    assert_eq!(search_async(&benign()).await.unwrap(), 42);
}

#[tokio::test]
#[rasp::protect(route = "/inner-attribute")]
async fn protect_inside_tokio_test() -> Result<(), AppError> {
    let term = query_param_async(&benign()).await;
    assert_eq!(term.source().kind, "http.query");
    let ctx = RequestContext::current().unwrap();
    assert_eq!(ctx.route(), Some("/inner-attribute"));
    assert_eq!(ctx.input_count(), 1);
    Ok(())
}

#[rasp::protect(route = "/outer-attribute")]
#[tokio::test]
async fn protect_outside_tokio_test() -> Result<(), AppError> {
    let ctx = RequestContext::current().unwrap();
    assert_eq!(ctx.route(), Some("/outer-attribute"));
    let _ = query_param(&benign());
    assert_eq!(ctx.input_count(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------
// Mode-dependent behaviour: needs the SQL detector.

#[test]
fn block_and_monitor_modes() {
    let capture = Capture::default();
    let _guard = capture.install();
    let reset = ModeReset;

    Mode::set(Mode::Block);
    let before = EXECUTED.get();
    let blocked = search(&attack()).expect_err("injection refused");
    let AppError::Blocked(blocked) = blocked else {
        panic!("expected Blocked, got {blocked:?}");
    };
    assert_eq!(blocked.sink_id, "tests.db.execute");
    assert_eq!(blocked.class, SinkClass::Sql);
    assert_eq!(EXECUTED.get(), before, "the sink body never ran");

    let events = capture.events();
    let event = events
        .iter()
        .find(|e| e.target == "rasp::security" && e.fields.contains_key("rasp.action"))
        .expect("a security event");
    assert_eq!(event.fields["rasp.action"], "block");
    assert_eq!(event.fields["rasp.sink.id"], "tests.db.execute");
    assert_eq!(event.fields["rasp.sink.kind"], "sql");
    assert_eq!(event.fields["rasp.source.kind"], "http.query");
    assert_eq!(event.fields["http.route"], "/search");
    let excerpt = &event.fields["rasp.input.excerpt"];
    assert_eq!(excerpt, "*' ** '*'='*");
    assert!(!excerpt.contains(['x', 'O', 'R', 'a']), "{excerpt}");

    // Async sinks refuse the same way.
    let blocked = runtime().block_on(search_async(&attack()));
    assert!(matches!(blocked, Err(AppError::Blocked(_))), "{blocked:?}");

    // Benign input passes in block mode.
    assert_eq!(search(&benign()).unwrap(), 42);

    Mode::set(Mode::Monitor);
    let before = EXECUTED.get();
    let allowed = search(&attack()).expect("monitor lets the call run");
    assert_eq!(allowed, 36 + ATTACK.len());
    assert_eq!(EXECUTED.get(), before + 1);
    let monitored = capture
        .events()
        .into_iter()
        .filter(|e| e.fields.get("rasp.action").map(String::as_str) == Some("monitor"))
        .count();
    assert_eq!(monitored, 1);
    drop(reset);
}

/// Puts the default mode back even when an assertion fails.
struct ModeReset;

impl Drop for ModeReset {
    fn drop(&mut self) {
        Mode::set(Mode::Block);
    }
}

//! What the database tests share: a request context with the attacker's
//! input recorded, the app's error type, inputs that must pass, the
//! process-wide mode, captured security events, and table clean-up.
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rasp::{Mode, RequestContext, SourceMeta};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The source every test input comes from, as a query parameter would.
pub(crate) static INPUT: SourceMeta = SourceMeta {
    kind: "http.query",
    fn_path: "tests::request_input",
    file: file!(),
    line: line!(),
};

/// Text a user may legitimately type, full of quotes and SQL words. Bound as
/// a parameter or spliced inside a correctly escaped literal, none of it
/// changes a statement's structure.
pub(crate) const BENIGN: &[&str] = &[
    "O'Brien",
    "Robert'); DROP TABLE students; --",
    "select * from the menu",
    "Ann -- the admin",
    "1 OR 1=1",
    "\"double\" and 'single' quotes",
    "50% off; /* not a comment */",
    "Zoë Ångström — 東京 🍣",
];

/// Runs `future` as one request whose untrusted inputs are `inputs`.
pub(crate) async fn in_request<F: Future>(inputs: &[&str], future: F) -> F::Output {
    let ctx = RequestContext::new();
    for input in inputs {
        ctx.record_input(&INPUT, input.as_bytes());
    }
    ctx.instrument(future).await
}

/// Error type of the app under test: a database error or a refusal by rasp.
#[derive(Debug)]
pub(crate) enum AppError {
    /// rasp refused the statement.
    Blocked(rasp::Blocked),
    /// The database failed.
    Db(sqlx::Error),
}

impl From<rasp::Blocked> for AppError {
    fn from(blocked: rasp::Blocked) -> Self {
        AppError::Blocked(blocked)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Db(err)
    }
}

/// The refusal in `result`; panics if the statement ran or failed otherwise.
#[track_caller]
pub(crate) fn expect_blocked<T: std::fmt::Debug>(result: Result<T, AppError>) -> rasp::Blocked {
    match result {
        Err(AppError::Blocked(blocked)) => blocked,
        other => panic!("expected rasp to block the statement, got {other:?}"),
    }
}

/// The value in `result`; panics with the error otherwise.
#[track_caller]
pub(crate) fn expect_ok<T>(result: Result<T, AppError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("expected the statement to run, got {err:?}"),
    }
}

/// The mode is process-wide and tests run in parallel: tests that expect
/// `Block` hold a shared lock, the one test that switches to `Monitor`
/// holds it exclusively.
static MODE: RwLock<()> = RwLock::new(());

/// Keeps the process in `Block` mode (the default) while alive.
pub(crate) struct BlockMode {
    _shared: RwLockReadGuard<'static, ()>,
}

/// Waits until no test is in `Monitor` mode and keeps it that way.
pub(crate) fn block_mode() -> BlockMode {
    let shared = MODE.read().unwrap_or_else(|p| p.into_inner());
    assert_eq!(Mode::current(), Mode::Block);
    BlockMode { _shared: shared }
}

/// Switches the process to `Monitor` mode until dropped.
pub(crate) struct MonitorMode {
    _exclusive: RwLockWriteGuard<'static, ()>,
}

impl MonitorMode {
    /// Waits for tests in `Block` mode to finish, then switches.
    pub(crate) fn enter() -> MonitorMode {
        let exclusive = MODE.write().unwrap_or_else(|p| p.into_inner());
        Mode::set(Mode::Monitor);
        MonitorMode {
            _exclusive: exclusive,
        }
    }
}

impl Drop for MonitorMode {
    fn drop(&mut self) {
        Mode::set(Mode::Block);
    }
}

/// Fields of one captured `rasp::security` event, rendered as text.
pub(crate) type Fields = BTreeMap<String, String>;

/// Security events seen on this thread while the capture is alive.
#[derive(Clone, Default)]
pub(crate) struct SecurityEvents(Arc<Mutex<Vec<Fields>>>);

impl SecurityEvents {
    /// Starts capturing on this thread (the thread of a `#[tokio::test]`).
    pub(crate) fn capture() -> (SecurityEvents, tracing::subscriber::DefaultGuard) {
        let events = SecurityEvents::default();
        let subscriber = tracing_subscriber::registry().with(events.clone());
        (events, tracing::subscriber::set_default(subscriber))
    }

    /// The events captured so far.
    pub(crate) fn all(&self) -> Vec<Fields> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SecurityEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != rasp::event::TARGET {
            return;
        }
        let mut fields = FieldsVisitor(Fields::new());
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(fields.0);
    }
}

struct FieldsVisitor(Fields);

impl Visit for FieldsVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// The database URL in `var`, or `None` after saying the tests are skipped.
pub(crate) fn database_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping: {var} not set");
            None
        }
    }
}

/// A table name no other test, and no other run of this binary, uses.
pub(crate) fn unique_table(stem: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "rasp_{stem}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

type CleanupFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Runs a clean-up when dropped, also when the test fails: on its own
/// thread and runtime, because `Drop` cannot await and the test's runtime
/// may be unwinding.
pub(crate) struct Cleanup {
    cleanup: Option<Box<dyn FnOnce() -> CleanupFuture + Send>>,
}

impl Cleanup {
    /// Arms the clean-up.
    pub(crate) fn new<F, Fut>(cleanup: F) -> Cleanup
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Cleanup {
            cleanup: Some(Box::new(move || Box::pin(cleanup()) as CleanupFuture)),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(cleanup) = self.cleanup.take() else {
            return;
        };
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up")
                .block_on(cleanup());
        })
        .join();
        if done.is_err() {
            eprintln!("clean-up of test tables failed");
        }
    }
}

//! Shared by the policy tests: sink sites, request contexts, a capture of
//! `rasp::security` events per thread, and a lock that serializes tests
//! touching the process-wide policy.

#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, Once};

use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use rasp_core::{RequestContext, SourceMeta};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

pub static SQL: SinkSite = site("policy_test.sql", SinkClass::Sql);
pub static SQL_REPORTS: SinkSite = site("policy_test.sql.reports", SinkClass::Sql);
pub static SHELL: SinkSite = site("policy_test.shell", SinkClass::Shell);

inventory::submit!(SinkRegistration(&SQL));
inventory::submit!(SinkRegistration(&SQL_REPORTS));
inventory::submit!(SinkRegistration(&SHELL));

const fn site(id: &'static str, kind: SinkClass) -> SinkSite {
    SinkSite::new(
        id,
        kind,
        "policy_test::sink",
        file!(),
        line!(),
        &["text"],
        Guard::RuntimeChecked,
    )
}

pub static SRC: SourceMeta = SourceMeta {
    kind: "test.input",
    ..SourceMeta::MANUAL
};

/// An injection and the SQL text it ends up in.
pub const ATTACK: &str = "x' OR '1'='1";
pub fn attack_sql() -> String {
    format!("SELECT * FROM t WHERE name = '{ATTACK}'")
}
/// A shell injection and its command line.
pub const SHELL_ATTACK: &str = "a.txt; rm -rf /";
pub fn attack_shell() -> String {
    format!("cat {SHELL_ATTACK}")
}

/// What a request context is built from.
#[derive(Default, Clone)]
pub struct Request<'a> {
    pub id: Option<&'a str>,
    pub route: Option<&'a str>,
    pub ip: Option<IpAddr>,
    pub user: Option<&'a str>,
    pub tenant: Option<&'a str>,
}

pub fn context(request: &Request<'_>, inputs: &[&str]) -> Arc<RequestContext> {
    let mut builder = RequestContext::builder();
    if let Some(id) = request.id {
        builder = builder.request_id(id);
    }
    if let Some(route) = request.route {
        builder = builder.route(route);
    }
    if let Some(ip) = request.ip {
        builder = builder.client_ip(ip);
    }
    if let Some(user) = request.user {
        builder = builder.user(user);
    }
    if let Some(tenant) = request.tenant {
        builder = builder.tenant(tenant);
    }
    let ctx = builder.build();
    for input in inputs {
        assert!(ctx.record_input(&SRC, input.as_bytes()));
    }
    ctx
}

/// Serializes the tests of one binary that install policies.
pub fn policy_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    rasp_core::policy::uninstall();
    guard
}

/// Installs a policy whose detection events are never deduplicated, so a
/// test sees one event per detection however many it causes.
pub fn install(text: &str) -> u64 {
    let text = every_event(text);
    let policy = rasp_core::policy::load_str(&text).unwrap_or_else(|e| panic!("{e}"));
    rasp_core::policy::install(policy).unwrap_or_else(|e| panic!("{e}"))
}

/// `text` with `[events] dedup_window_secs = 0` unless it sets a window.
pub fn every_event(text: &str) -> String {
    if text.contains("dedup_window_secs") {
        text.to_owned()
    } else if text.contains("[events]") {
        text.replacen("[events]", "[events]\ndedup_window_secs = 0", 1)
    } else {
        format!("{text}\n[events]\ndedup_window_secs = 0\n")
    }
}

/// One captured event: its fields as strings.
pub type Fields = BTreeMap<String, String>;

thread_local! {
    static CAPTURED: RefCell<Vec<Fields>> = const { RefCell::new(Vec::new()) };
}

/// Starts capturing events of this process, per thread.
pub fn capture_events() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(Capture);
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    CAPTURED.with(|c| c.borrow_mut().clear());
}

/// The events captured on this thread since the last call (or since
/// [`capture_events`]).
pub fn take_events() -> Vec<Fields> {
    CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

struct Capture;

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != rasp_core::event::TARGET {
            return;
        }
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        CAPTURED.with(|c| c.borrow_mut().push(fields));
    }
}

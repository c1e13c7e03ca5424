//! The escape hatch: what `trust_unchecked!` registers, and what a site
//! built by hand, behind the macro's back, gets instead.

use std::io::Write;
use std::sync::{Arc, Mutex};

use rasp_core::__private_v1::assert_trusted;
use rasp_core::{
    EscapeHatch, Shell, SinkClass, SourceMeta, Sql, Tainted, registry, trust_unchecked,
};

/// Everything written on the `rasp::security` target while `f` runs.
fn security_events(f: impl FnOnce()) -> String {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Sink(Arc::new(Mutex::new(Vec::new())));
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = out.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn a_macro_site_is_registered_with_its_class_and_counts_its_uses() {
    let events = security_events(|| {
        for _ in 0..3 {
            let v = Tainted::new("created_at".to_owned(), &SourceMeta::MANUAL);
            let v = trust_unchecked!(v, Sql, "checked against the sortable columns");
            assert_eq!(v.get(), "created_at");
            assert!(v.site().registered());
            assert_eq!(v.site().class, SinkClass::Sql);
        }
    });
    assert!(!events.contains("unregistered"), "{events}");
    let site = registry::escape_hatches()
        .into_iter()
        .find(|h| h.reason == "checked against the sortable columns")
        .expect("the site is in the registry the audit reads");
    assert_eq!(site.uses(), 3);
    assert_eq!(site.class, SinkClass::Sql);
}

/// Built by hand, as the macro would, but never submitted to the registry.
static HAND_MADE: EscapeHatch = EscapeHatch::new(
    "trust me",
    SinkClass::Shell,
    module_path!(),
    file!(),
    line!(),
    column!(),
);

#[test]
fn a_site_built_by_hand_is_reported_once_and_never_listed() {
    let events = security_events(|| {
        for _ in 0..5 {
            let v = Tainted::new("ls".to_owned(), &SourceMeta::MANUAL);
            let asserted = assert_trusted::<_, Shell>(v, &HAND_MADE);
            assert_eq!(asserted.get(), "ls");
        }
    });
    assert!(!HAND_MADE.registered());
    assert_eq!(
        events.matches("rasp.escape_hatch.unregistered").count(),
        1,
        "one report per site, however often it is used: {events}"
    );
    assert!(events.contains("trust me"), "{events}");
    assert!(
        registry::escape_hatches()
            .iter()
            .all(|h| !std::ptr::eq(*h, &HAND_MADE)),
        "the audit cannot list it"
    );
}

/// A sink site built by hand, never submitted to the registry.
static HAND_MADE_SINK: rasp_core::SinkSite = rasp_core::SinkSite::new(
    "hand.made",
    SinkClass::Sql,
    "tests::hand_made",
    file!(),
    line!(),
    &["text"],
    rasp_core::Guard::RuntimeChecked,
);

/// A registered site, as `#[rasp::sink]` and rasp's guards make them.
static LISTED_SINK: rasp_core::SinkSite = rasp_core::SinkSite::new(
    "listed.sink",
    SinkClass::Sql,
    "tests::listed",
    file!(),
    line!(),
    &["text"],
    rasp_core::Guard::RuntimeChecked,
);
rasp_core::__private_v1::inventory::submit! { rasp_core::__private_v1::SinkRegistration(&LISTED_SINK) }

#[test]
fn unwrapping_at_a_sink_site_built_by_hand_is_reported_once() {
    use rasp_core::__private_v1::{peek_at, sanitized_at, take_at};
    let events = security_events(|| {
        for _ in 0..4 {
            let v = Tainted::new("x' OR 1=1 --".to_owned(), &SourceMeta::MANUAL);
            assert_eq!(peek_at(&v, &HAND_MADE_SINK), "x' OR 1=1 --");
            assert_eq!(take_at(v, &HAND_MADE_SINK), "x' OR 1=1 --");
            let s = Tainted::new("a'b".to_owned(), &SourceMeta::MANUAL).sanitize::<Sql>();
            assert_eq!(sanitized_at(&s, &HAND_MADE_SINK), "'a''b'");
        }
    });
    assert!(!HAND_MADE_SINK.registered());
    assert_eq!(
        events.matches("rasp.sink.unregistered").count(),
        1,
        "one report per site: {events}"
    );
    assert!(events.contains("hand.made"), "{events}");
}

#[test]
fn unwrapping_at_a_registered_sink_site_is_silent() {
    let events = security_events(|| {
        let v = Tainted::new("name".to_owned(), &SourceMeta::MANUAL);
        assert_eq!(rasp_core::__private_v1::take_at(v, &LISTED_SINK), "name");
    });
    assert!(LISTED_SINK.registered());
    assert!(!events.contains("unregistered"), "{events}");
}

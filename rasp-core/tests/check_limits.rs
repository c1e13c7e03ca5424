//! No input goes unchecked because of a limit, and no failure while
//! reporting changes a decision: checks with thousands of inputs, requests
//! past their caps, the policy's `[limits]`, and panicking metrics
//! recorders and `tracing` subscribers.

mod policy_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rasp_core::check::{check, counts};
use rasp_core::context::INDEX_THRESHOLD;
use rasp_core::{InputLimits, Limit, Mode, OnExceeded, Reason, RequestContext};

use policy_support::*;

fn many(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("p{i}")).collect()
}

fn context_with(limits: InputLimits, inputs: &[String]) -> Arc<RequestContext> {
    let ctx = RequestContext::builder().limits(limits).build();
    for input in inputs {
        ctx.record_input(&SRC, input.as_bytes());
    }
    ctx
}

fn unbounded() -> InputLimits {
    InputLimits {
        max_inputs: usize::MAX,
        max_total_bytes: usize::MAX,
        ..InputLimits::default()
    }
}

/// Wherever the attack sits among 10,000 inputs, and whenever it was
/// recorded relative to the first check, it is found.
#[test]
fn every_input_is_checked_however_many_there_are() {
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    let sql = attack_sql();
    let padding = many(10_000);
    for position in [0, INDEX_THRESHOLD, 5_000, 10_000] {
        let mut inputs = padding.clone();
        inputs.insert(position, ATTACK.to_owned());
        let ctx = context_with(unbounded(), &inputs);
        assert_eq!(ctx.input_count(), 10_001);
        let blocked = ctx.scope(|| check(&SQL, sql.as_bytes()));
        assert!(blocked.is_err(), "attack at {position} not found");
        // Benign text with many of the inputs in it is allowed.
        let benign = "SELECT * FROM t WHERE a = 'p1' AND b = 'p9999' AND c = 'p5000'";
        assert!(ctx.scope(|| check(&SQL, benign.as_bytes())).is_ok());
    }
    // Recorded after the searcher was built: still checked.
    let ctx = context_with(unbounded(), &padding);
    assert!(ctx.scope(|| check(&SQL, b"SELECT 1")).is_ok());
    for extra in many(3 * INDEX_THRESHOLD)
        .iter()
        .map(|p| format!("late-{p}"))
    {
        ctx.record_input(&SRC, extra.as_bytes());
        assert!(ctx.scope(|| check(&SQL, b"SELECT 1")).is_ok());
    }
    ctx.record_input(&SRC, ATTACK.as_bytes());
    assert!(ctx.scope(|| check(&SQL, sql.as_bytes())).is_err());
}

/// Checking 10,000 inputs costs about what checking 5,000 does: one pass
/// over the text, not one search per input.
#[test]
fn checking_many_inputs_is_bounded() {
    let _lock = policy_lock();
    let text = "SELECT id, name FROM users WHERE name = 'ann' AND kind = 'p77x'".repeat(20);
    let time = |n: usize| {
        let ctx = context_with(unbounded(), &many(n));
        ctx.scope(|| {
            let _ = check(&SQL, text.as_bytes());
            let start = Instant::now();
            for _ in 0..200 {
                let _ = check(&SQL, text.as_bytes());
            }
            start.elapsed()
        })
    };
    let small = (0..3).map(|_| time(5_000)).min().unwrap();
    let large = (0..3).map(|_| time(10_000)).min().unwrap();
    assert!(large < small * 3, "5,000: {small:?}, 10,000: {large:?}");
    assert!(large < Duration::from_secs(2), "{large:?}");
}

/// Past a cap the request's sinks refuse every call (the default), or, in
/// monitor, the stored inputs are still checked; either way one event says
/// which limit, with the request's correlation fields.
#[test]
fn past_the_caps_sinks_refuse_or_monitor() {
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    capture_events();
    let limits = InputLimits {
        max_inputs: 100,
        ..InputLimits::default()
    };
    let ctx = RequestContext::builder()
        .limits(limits)
        .request_id("padded")
        .route("/search")
        .build();
    for input in many(200) {
        ctx.record_input(&SRC, input.as_bytes());
    }
    assert_eq!(ctx.exceeded(), Some(Limit::Inputs));
    let before = counts().blocks;
    let refused = ctx.scope(|| check(&SQL, b"SELECT 1")).unwrap_err();
    assert_eq!(refused.reason, Reason::InputsOverflowed);
    assert!(counts().blocks > before);
    let events = take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event.name"], "rasp.limits.exceeded");
    assert_eq!(events[0]["rasp.limit"], "max_inputs");
    assert_eq!(events[0]["rasp.action"], "block");
    assert_eq!(events[0]["rasp.request.id"], "padded");
    assert_eq!(events[0]["http.route"], "/search");

    let monitor = InputLimits {
        on_exceeded: OnExceeded::Monitor,
        ..limits
    };
    let mut inputs = vec![ATTACK.to_owned()];
    inputs.extend(many(200));
    let ctx = context_with(monitor, &inputs);
    assert_eq!(ctx.exceeded(), Some(Limit::Inputs));
    assert!(ctx.scope(|| check(&SQL, b"SELECT 1")).is_ok());
    let sql = attack_sql();
    assert!(ctx.scope(|| check(&SQL, sql.as_bytes())).is_err());
    let events = take_events();
    assert_eq!(events[0]["rasp.action"], "monitor", "{events:?}");
}

#[test]
fn the_policy_sets_the_limits() {
    let _lock = policy_lock();
    assert_eq!(rasp_core::policy::input_limits(), None);
    install("schema_version = 1\nrevision = 1\nmode = \"block\"\n");
    assert_eq!(rasp_core::policy::input_limits(), None, "no [limits] table");
    install(
        "schema_version = 1\nrevision = 2\nmode = \"block\"\n\
         [limits]\nmax_inputs = 10\nmax_body_bytes = 2048\non_exceeded = \"monitor\"\n",
    );
    assert_eq!(
        rasp_core::policy::input_limits(),
        Some(InputLimits {
            max_inputs: 10,
            max_body_bytes: 2048,
            on_exceeded: OnExceeded::Monitor,
            ..InputLimits::default()
        })
    );
    for (bad, key) in [
        ("max_inputs = 0", "limits.max_inputs"),
        ("max_total_bytes = 9999999999999", "limits.max_total_bytes"),
    ] {
        let text = format!("schema_version = 1\nrevision = 3\nmode = \"block\"\n[limits]\n{bad}\n");
        match rasp_core::policy::load_str(&text) {
            Err(rasp_core::policy::PolicyError::Invalid { key: k, .. }) => assert_eq!(k, key),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let typo =
        "schema_version = 1\nrevision = 3\nmode = \"block\"\n[limits]\non_exceeded = \"allow\"\n";
    assert!(rasp_core::policy::load_str(typo).is_err());
    rasp_core::policy::uninstall();
}

/// A metrics recorder whose every counter panics.
struct PanickingRecorder;

impl metrics::Recorder for PanickingRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        panic!("metrics backend failed");
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        panic!("metrics backend failed");
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        panic!("metrics backend failed");
    }
}

/// A subscriber that panics on every event.
struct PanickingSubscriber;

impl tracing::Subscriber for PanickingSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        panic!("log pipeline failed");
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A panicking metrics recorder or subscriber never reaches the sink
/// call and never changes the decision: the attack is still refused, the
/// benign call still runs, and the failure is counted.
#[test]
fn failures_while_reporting_keep_the_decision() {
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    let sql = attack_sql();
    let attack = context(&Request::default(), &[ATTACK]);
    let benign = context(&Request::default(), &["ann"]);
    let benign_sql = "SELECT * FROM users WHERE name = 'ann'";

    let before = counts().internal_errors;
    metrics::with_local_recorder(&PanickingRecorder, || {
        let refused = attack.scope(|| check(&SQL, sql.as_bytes()));
        assert_eq!(refused.unwrap_err().reason, Reason::BreaksLiteral);
        assert!(benign.scope(|| check(&SQL, benign_sql.as_bytes())).is_ok());
    });
    assert!(counts().internal_errors > before, "counted");

    let before = counts().internal_errors;
    tracing::subscriber::with_default(PanickingSubscriber, || {
        let refused = attack.scope(|| check(&SQL, sql.as_bytes()));
        assert_eq!(refused.unwrap_err().reason, Reason::BreaksLiteral);
        assert!(benign.scope(|| check(&SQL, benign_sql.as_bytes())).is_ok());
    });
    assert!(counts().internal_errors > before, "counted");
}

/// An input with HTML specials is recorded with its HTML-escaped form too
/// (HTML output displays, and can be formatted into a script). The forms
/// have a budget of their own: at the caps, every input the request sent
/// is still stored, and the request is not over its limits.
#[test]
fn escaped_forms_never_crowd_out_inputs() {
    let limits = InputLimits {
        max_inputs: 2,
        max_total_bytes: 64,
        on_exceeded: OnExceeded::Block,
        ..InputLimits::default()
    };
    let ctx = context_with(limits, &["<b>a</b>".to_owned(), "x & y".to_owned()]);
    assert_eq!(ctx.input_count(), 2, "both inputs are stored");
    assert_eq!(ctx.exceeded(), None);
    assert_eq!(ctx.dropped_inputs(), 0);
    // The second input's escaped form is stored and checked: written into
    // a script, its `&` is an operator.
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    let refused = ctx.scope(|| check(&SHELL, b"echo x &amp; y")).unwrap_err();
    assert_eq!(refused.reason, Reason::ShellOperator);
}

/// A form past its own budget is an overflow like any other: counted, and
/// the request refused under `OnExceeded::Block`, never a form silently
/// left unchecked while the script it could hide in runs.
#[test]
fn an_escaped_form_past_its_budget_refuses_the_request() {
    let _lock = policy_lock();
    Mode::set(Mode::Block);
    let limits = InputLimits {
        max_inputs: 8,
        max_total_bytes: 12,
        on_exceeded: OnExceeded::Block,
        ..InputLimits::default()
    };
    // 4 bytes as sent, 16 escaped.
    let ctx = context_with(limits, &["<<<<".to_owned()]);
    assert_eq!(ctx.input_count(), 1, "the input itself is stored");
    assert_eq!(ctx.exceeded(), Some(Limit::TotalBytes));
    assert_eq!(ctx.dropped_inputs(), 1);
    let refused = ctx.scope(|| check(&SQL, b"SELECT 1")).unwrap_err();
    assert_eq!(refused.reason, Reason::InputsOverflowed);
}

//! Cost of the runtime check at a SQL sink, from the no-context fast path to
//! a detection, and of the SQL detector alone.
//!
//! `cargo bench -p rasp-core --bench check`; figures and targets are in
//! `docs/benchmarks.md`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use memchr::memmem::Finder;
use rasp_core::check::{check, check_spliced};
use rasp_core::class::SinkClass;
use rasp_core::detect::span::Place;
use rasp_core::detect::sql::detect;
use rasp_core::sink::{Guard, SinkSite};
use rasp_core::spliced::Spliced;
use rasp_core::{Dialect, Mode, RequestContext, SourceMeta, Sql, Tainted};

static SITE: SinkSite = SinkSite::new(
    "bench.sql",
    SinkClass::Sql,
    "bench::query",
    file!(),
    line!(),
    &["sql"],
    Guard::RuntimeChecked,
);

static SRC: SourceMeta = SourceMeta {
    kind: "bench.input",
    ..SourceMeta::MANUAL
};

/// A typical string-built query, 200 bytes, with the user's search term
/// inside a literal.
const SQL: &str = "SELECT u.id, u.name, u.email, o.total, o.status FROM users u \
    JOIN orders o ON o.user_id = u.id WHERE u.name = 'Ann -- the admin' \
    AND o.status = 'shipped' ORDER BY o.created_at DESC LIMIT 50 OFFSET 100";

/// The search term of `SQL`: present, inside a literal, harmless.
const PRESENT: &str = "Ann -- the admin";

/// Inputs the request recorded that do not occur in `SQL`.
const ABSENT: [&str; 7] = [
    "42",
    "en-GB",
    "title",
    "asc",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "session-7f3a9c",
    "https://example.test/orders?page=3",
];

/// The same query with an injection in place of the search term.
const ATTACK: &str = "x' OR '1'='1";

fn context(inputs: &[&str]) -> Arc<RequestContext> {
    let ctx = RequestContext::new();
    for input in inputs {
        assert!(ctx.record_input(&SRC, input.as_bytes()));
    }
    ctx
}

fn sink_check(c: &mut Criterion) {
    let sql = SQL.as_bytes();
    let attack_sql = SQL.replace(PRESENT, ATTACK);
    let mut group = c.benchmark_group("check");

    group.bench_function("no_context", |b| {
        b.iter(|| check(&SITE, black_box(sql)));
    });

    context(&ABSENT[..1]).scope(|| {
        group.bench_function("1_input_absent", |b| {
            b.iter(|| check(&SITE, black_box(sql)));
        });
    });

    context(&[PRESENT]).scope(|| {
        group.bench_function("1_input_present_benign", |b| {
            b.iter(|| check(&SITE, black_box(sql)));
        });
    });

    let mut eight = ABSENT.to_vec();
    eight.push(PRESENT);
    context(&eight).scope(|| {
        group.bench_function("8_inputs_1_present_benign", |b| {
            b.iter(|| check(&SITE, black_box(sql)));
        });
    });

    // A detection decided in Monitor mode with no tracing subscriber: the
    // whole path (detector, decision, counters, disabled event) without a
    // refusal.
    Mode::set(Mode::Monitor);
    context(&[ATTACK]).scope(|| {
        group.bench_function("1_input_injection_monitor", |b| {
            b.iter(|| check(&SITE, black_box(attack_sql.as_bytes())));
        });
    });
    Mode::set(Mode::Block);
    context(&[ATTACK]).scope(|| {
        assert!(check(&SITE, attack_sql.as_bytes()).is_err());
        group.bench_function("1_input_injection_block", |b| {
            b.iter(|| check(&SITE, black_box(attack_sql.as_bytes())));
        });
    });

    group.finish();
}

/// The same query built by a span-exact macro: the template's pieces and
/// one tainted argument, whose span alone is judged.
fn spliced_query(term: &str) -> Spliced<Sql> {
    let (before, after) = SQL.split_once(PRESENT).expect("the term is in the query");
    let term = Tainted::new(term.to_owned(), &SRC);
    let mut text = Spliced::<Sql>::__with_capacity(SQL.len() + 16);
    text.__literal(before);
    // As `rasp::sql!` marks a placeholder it read inside `'…'`.
    text.__arg_in(&term, Place::SqlQuoted);
    text.__literal(after);
    text
}

static SPAN_SITE: SinkSite = SinkSite::new(
    "bench.sql.span",
    SinkClass::Sql,
    "bench::query",
    file!(),
    line!(),
    &[],
    Guard::SpanExact,
);

fn span_check(c: &mut Criterion) {
    let sql = SQL.as_bytes();
    let present = Finder::new(PRESENT);
    let spliced = spliced_query(PRESENT);
    assert_eq!(spliced.spans().len(), 1);
    let mut group = c.benchmark_group("span");
    // The floor: one SIMD search for the term, as the verbatim check makes
    // for every recorded input before any detector runs.
    group.bench_function("memmem_floor", |b| {
        b.iter(|| present.find(black_box(sql)));
    });
    group.bench_function("check_1_span_benign", |b| {
        b.iter(|| check_spliced(&SPAN_SITE, black_box(&spliced)));
    });
    group.bench_function("build_and_check_1_span_benign", |b| {
        b.iter(|| check_spliced(&SPAN_SITE, &spliced_query(black_box(PRESENT))));
    });
    // The same span outside the one-scan context: judged by the detector.
    let mut lexed = Spliced::<Sql>::__with_capacity(SQL.len() + 16);
    let (before, after) = SQL.split_once(PRESENT).expect("the term is in the query");
    lexed.__literal(before);
    lexed.__arg(&Tainted::new(PRESENT.to_owned(), &SRC));
    lexed.__literal(after);
    group.bench_function("check_1_span_benign_lexed", |b| {
        b.iter(|| check_spliced(&SPAN_SITE, black_box(&lexed)));
    });
    let attack = spliced_query(ATTACK);
    Mode::set(Mode::Monitor);
    group.bench_function("check_1_span_injection_monitor", |b| {
        b.iter(|| check_spliced(&SPAN_SITE, black_box(&attack)));
    });
    Mode::set(Mode::Block);
    group.finish();
}

fn sql_detector(c: &mut Criterion) {
    let sql = SQL.as_bytes();
    let attack_sql = SQL.replace(PRESENT, ATTACK);
    let present = Finder::new(PRESENT);
    let absent = Finder::new(ABSENT[0]);
    let attack = Finder::new(ATTACK);
    let mut group = c.benchmark_group("detect_sql");

    group.bench_function("absent", |b| {
        b.iter(|| detect(Dialect::Generic, black_box(sql), &absent));
    });
    for dialect in [
        Dialect::Generic,
        Dialect::Sqlite,
        Dialect::Postgres,
        Dialect::MySql,
    ] {
        assert_eq!(detect(dialect, sql, &present), None);
        group.bench_function(format!("benign_{}", dialect.as_str()), |b| {
            b.iter(|| detect(dialect, black_box(sql), &present));
        });
    }
    assert!(detect(Dialect::Generic, attack_sql.as_bytes(), &attack).is_some());
    group.bench_function("injection_generic", |b| {
        b.iter(|| detect(Dialect::Generic, black_box(attack_sql.as_bytes()), &attack));
    });

    group.finish();
}

criterion_group!(benches, sink_check, span_check, sql_detector);
criterion_main!(benches);

//! Cost of recording and checking as a request's inputs grow: recording
//! stays linear (de-duplication through a hash index), and a check with
//! thousands of inputs is one Aho-Corasick pass over the sink text rather
//! than one search per input.
//!
//! `cargo bench -p rasp-core --bench many_inputs`; figures are in
//! `docs/benchmarks.md`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkSite};
use rasp_core::{InputLimits, Mode, RequestContext, SourceMeta};

static SITE: SinkSite = SinkSite::new(
    "bench.many_inputs.sql",
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

/// The 200-byte query of the `check` bench.
const SQL: &str = "SELECT u.id, u.name, u.email, o.total, o.status FROM users u \
    JOIN orders o ON o.user_id = u.id WHERE u.name = 'Ann -- the admin' \
    AND o.status = 'shipped' ORDER BY o.created_at DESC LIMIT 50 OFFSET 100";

/// Distinct inputs shaped like padded query pairs (`k17`, `value-17`).
fn inputs(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("k{i}")
            } else {
                format!("value-{i}")
            }
        })
        .collect()
}

fn context(inputs: &[String]) -> Arc<RequestContext> {
    let ctx = RequestContext::builder()
        .limits(InputLimits {
            max_inputs: usize::MAX,
            max_total_bytes: usize::MAX,
            ..InputLimits::default()
        })
        .build();
    for input in inputs {
        ctx.record_input(&SRC, input.as_bytes());
    }
    ctx
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    for n in [1, 64, 10_000] {
        let texts = inputs(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &texts, |b, texts| {
            b.iter_batched(|| (), |()| black_box(context(texts)), BatchSize::SmallInput);
        });
    }
    group.finish();
}

fn check_many(c: &mut Criterion) {
    Mode::set(Mode::Block);
    let mut group = c.benchmark_group("check_many");
    for n in [64, 1_000, 10_000] {
        // None of the inputs occurs in the text: the common case.
        let ctx = context(&inputs(n));
        ctx.scope(|| {
            let _ = check(&SITE, SQL.as_bytes());
            group.bench_function(BenchmarkId::new("absent", n), |b| {
                b.iter(|| black_box(check(&SITE, black_box(SQL.as_bytes()))))
            });
        });
        // The attack recorded last, after all the others.
        let mut with_attack = inputs(n);
        with_attack.push("x' OR '1'='1".to_owned());
        let attack = SQL.replace("Ann -- the admin", "x' OR '1'='1");
        let ctx = context(&with_attack);
        ctx.scope(|| {
            let _ = check(&SITE, attack.as_bytes());
            group.bench_function(BenchmarkId::new("attack", n), |b| {
                b.iter(|| black_box(check(&SITE, black_box(attack.as_bytes()))).is_err())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, record, check_many);
criterion_main!(benches);

//! What the attribute macros add to a trivial fn: each annotated fn is
//! measured next to the same fn without the attribute.
//!
//! `cargo bench --bench macros`; figures are in `docs/benchmarks.md`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

#[inline(never)]
fn run_plain(q: &'static str) -> Result<usize, rasp::Blocked> {
    Ok(black_box(q).len())
}

/// A string literal is trusted by type; its text is still checked at run
/// time, since `'static` does not prove a literal (`String::leak`).
#[rasp::sink(kind = "sql", guard(q))]
#[inline(never)]
fn run(q: impl rasp::SqlSafe) -> Result<usize, rasp::Blocked> {
    black_box(&q);
    Ok(1)
}

#[inline(never)]
fn read_plain() -> String {
    String::from("blue suede shoes")
}

#[rasp::source(kind = "bench.input")]
#[inline(never)]
fn read() -> String {
    String::from("blue suede shoes")
}

/// A value with HTML specials: its escaped form is recorded beside it.
#[rasp::source(kind = "bench.input")]
#[inline(never)]
fn read_specials() -> String {
    String::from("Tom & Jerry's shoes")
}

#[inline(never)]
fn handler_plain() -> Result<(), rasp::Blocked> {
    black_box(());
    Ok(())
}

#[rasp::protect]
#[inline(never)]
fn handler() -> Result<(), rasp::Blocked> {
    black_box(());
    Ok(())
}

fn sink(c: &mut Criterion) {
    let mut group = c.benchmark_group("sink");
    group.bench_function("plain", |b| b.iter(|| run_plain(black_box("SELECT 1"))));
    group.bench_function("annotated", |b| b.iter(|| run(black_box("SELECT 1"))));
    // In a request that recorded an input: the literal is searched for it.
    let ctx = rasp::RequestContext::new();
    ctx.record_input(&rasp::SourceMeta::MANUAL, b"blue suede shoes");
    ctx.scope(|| {
        group.bench_function("annotated_in_context", |b| {
            b.iter(|| run(black_box("SELECT name FROM products WHERE id = 1")))
        });
    });
    group.finish();
}

fn source(c: &mut Criterion) {
    let mut group = c.benchmark_group("source");
    group.bench_function("plain", |b| b.iter(|| black_box(read_plain())));
    group.bench_function("annotated_no_context", |b| b.iter(|| black_box(read())));
    rasp::RequestContext::new().scope(|| {
        group.bench_function("annotated_in_context", |b| b.iter(|| black_box(read())));
    });
    // A fresh context per call, so the input and its escaped form are
    // recorded each time rather than de-duplicated.
    group.bench_function("annotated_fresh_context", |b| {
        b.iter(|| rasp::RequestContext::new().scope(|| black_box(read())))
    });
    group.bench_function("annotated_fresh_context_html_specials", |b| {
        b.iter(|| rasp::RequestContext::new().scope(|| black_box(read_specials())))
    });
    group.finish();
}

fn protect(c: &mut Criterion) {
    let mut group = c.benchmark_group("protect");
    group.bench_function("plain", |b| b.iter(handler_plain));
    group.bench_function("annotated", |b| b.iter(handler));
    group.finish();
}

criterion_group!(benches, sink, source, protect);
criterion_main!(benches);

//! Cost of the log and HTML injection detectors on typical sink texts: a
//! benign input present in the text (the detector's full work on a miss),
//! and an attack; and of writing a tainted value as an escaped log field.
//!
//! `cargo bench -p rasp-core --bench log_html`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memchr::memmem::Finder;
use rasp_core::detect::{html, log};
use rasp_core::{Log, Sanitize};

/// A failed-login line with a user name in it.
const LOG_LINE: &str = "2026-11-29T00:00:00.000000Z WARN shop::auth: login failed for user=Zoë Ångström ip=203.0.113.7 attempts=3";
const LOG_INPUT: &str = "Zoë Ångström";
const LOG_ATTACK_INPUT: &str = "bob\n2026-11-29T00:00:01Z INFO admin login ok";

/// A comment card with the author in a quoted attribute and in text, and
/// the website in a link: about 300 bytes of markup before the text.
const PAGE_HEAD: &str = "<article class=\"comment\" id=\"c-1842\"><header><img class=\"avatar\" src=\"/avatars/1842.png\" alt=\"\" width=48 height=48><a class=\"author\" href=\"https://example.com/~ann\" title=\"";
const PAGE_MIDDLE: &str = "\">";
const PAGE_TAIL: &str = "</a><time datetime=\"2026-11-29\">today</time></header><p>Great write-up, thanks!</p></article>";
const HTML_INPUT: &str = "Ann O'Neil & co";
const HTML_ATTACK_INPUT: &str = "x\" onmouseover=\"alert(1)";

fn page(input: &str) -> String {
    format!("{PAGE_HEAD}{input}{PAGE_MIDDLE}{input}{PAGE_TAIL}")
}

fn log_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("log");
    let benign = Finder::new(LOG_INPUT.as_bytes());
    group.bench_function("benign", |b| {
        b.iter(|| log::detect(black_box(LOG_LINE.as_bytes()), black_box(&benign)));
    });
    let attack_line = LOG_LINE.replace(LOG_INPUT, LOG_ATTACK_INPUT);
    let attack = Finder::new(LOG_ATTACK_INPUT.as_bytes());
    group.bench_function("attack", |b| {
        b.iter(|| log::detect(black_box(attack_line.as_bytes()), black_box(&attack)));
    });
    let mut out = String::with_capacity(256);
    group.bench_function("escaped_field_attack", |b| {
        b.iter(|| {
            out.clear();
            Log::write_escaped(black_box(LOG_ATTACK_INPUT), &mut out).unwrap();
            black_box(out.len())
        });
    });
    group.finish();
}

fn html_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("html");
    for (name, input) in [("benign", HTML_INPUT), ("attack", HTML_ATTACK_INPUT)] {
        let text = page(input);
        let finder = Finder::new(input.as_bytes());
        group.bench_function(name, |b| {
            b.iter(|| html::detect(black_box(text.as_bytes()), black_box(&finder)));
        });
    }
    group.finish();
}

criterion_group!(benches, log_detector, html_detector);
criterion_main!(benches);

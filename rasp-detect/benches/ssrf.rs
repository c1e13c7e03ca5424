//! Cost of the SSRF detector on typical outbound URLs, with the input
//! present (the detector's full work): benign URLs whose path, query or
//! public host came from the input, and attacks that choose an internal
//! host in several spellings.
//!
//! `cargo bench -p rasp-core --bench ssrf`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memchr::memmem::Finder;
use rasp_detect::ssrf::{classify_host, detect};

/// (name, URL, input)
const BENIGN: &[(&str, &str, &str)] = &[
    (
        "benign_path",
        "http://10.0.0.5:8080/v1/orders/ord_8f2k1?fields=id,total&expand=items",
        "ord_8f2k1",
    ),
    (
        "benign_query",
        "https://api.example.org/search?q=running%20shoes&page=2",
        "running%20shoes",
    ),
    (
        "benign_webhook",
        "https://hooks.partner-example.net/services/T000/B000/XXXX?ts=1700000000",
        "https://hooks.partner-example.net/services/T000/B000/XXXX?ts=1700000000",
    ),
];

const ATTACKS: &[(&str, &str, &str)] = &[
    (
        "attack_metadata",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    ),
    (
        "attack_decimal",
        "http://2130706433:8080/admin",
        "http://2130706433:8080/admin",
    ),
    (
        "attack_mapped_v6",
        "http://[::ffff:127.0.0.1]:6379/",
        "[::ffff:127.0.0.1]:6379",
    ),
    (
        "attack_userinfo",
        "https://api.example.org@localhost/internal/status",
        "@localhost",
    ),
    (
        "attack_scheme",
        "gopher://10.0.0.3:11211/_stats",
        "gopher://10.0.0.3:11211/_stats",
    ),
];

fn ssrf_detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("ssrf");
    for &(name, url, input) in BENIGN.iter().chain(ATTACKS) {
        let finder = Finder::new(input.as_bytes());
        group.bench_function(name, |b| {
            b.iter(|| detect(black_box(url.as_bytes()), black_box(&finder)));
        });
    }
    group.bench_function("classify_host_name", |b| {
        b.iter(|| classify_host(black_box(b"hooks.partner-example.net")));
    });
    group.bench_function("classify_host_octal", |b| {
        b.iter(|| classify_host(black_box(b"0177.0.0.1")));
    });
    group.finish();
}

criterion_group!(benches, ssrf_detector);
criterion_main!(benches);

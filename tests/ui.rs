//! The compile-time rules of rasp, as users meet them: what the compiler
//! accepts (`tests/ui/pass`) and what it refuses, with the exact messages
//! (`tests/ui/fail/*.stderr`). Regenerate the messages with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

//! Fuzzes the policy parser with arbitrary bytes.
//!
//! Any input must give a policy or an error, never a panic or a stack
//! overflow; a policy that parses must resolve a rule for every sink class
//! and decide the entry of an empty request without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rasp_core::policy::Policy;
use rasp_core::{RequestContext, SinkClass};

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = Policy::from_bytes(data) else {
        return;
    };
    for kind in [
        SinkClass::Sql,
        SinkClass::Html,
        SinkClass::Shell,
        SinkClass::Path,
        SinkClass::Url,
        SinkClass::Header,
        SinkClass::Log,
        SinkClass::Redirect,
    ] {
        let (_, canary, _) = policy.site_rule("fuzz.sink", kind);
        assert!(canary <= 100);
    }
    let _ = policy.evaluate_entry(&RequestContext::new());
});

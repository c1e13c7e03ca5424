//! A build without the `redis` feature refuses a policy with `[fleet]`,
//! naming the feature, rather than running without the shared state the
//! policy asks for.

#![cfg(not(feature = "redis"))]

use rasp_core::policy::{Policy, PolicyError};

#[test]
fn a_fleet_table_needs_the_redis_feature() {
    let error = Policy::from_toml(
        "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
         [fleet]\nredis_url = \"redis://127.0.0.1:6379\"\n",
    )
    .unwrap_err();
    let PolicyError::Invalid { key, message } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(key, "fleet");
    assert!(message.contains("`redis` feature"), "{message}");
    // Its keys are still checked: a typo is a typo, feature or not.
    assert!(matches!(
        Policy::from_toml(
            "schema_version = 1\nrevision = 1\nmode = \"block\"\n\
             [fleet]\nredis_url = \"redis://h\"\ntimeout = 5\n",
        ),
        Err(PolicyError::Parse { .. })
    ));
}

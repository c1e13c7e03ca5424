//! Parsing and validating policy files: every key of the schema, errors that
//! name their key path, and hostile files refused without a panic.

use proptest::prelude::*;
use rasp_core::SinkClass;
use rasp_core::policy::{
    Action, MAX_NESTING, MAX_POLICY_BYTES, OnError, Policy, PolicyError, load_file, load_str,
};
use rasp_core::telemetry::Masking;

const MINIMAL: &str = "schema_version = 1\nrevision = 1\nmode = \"monitor\"\n";

fn error(text: &str) -> PolicyError {
    load_str(text).expect_err("the policy must be refused")
}

/// The key path and message of a parse or validation error.
fn key_of(text: &str) -> (String, String) {
    match error(text) {
        PolicyError::Parse { key, message } | PolicyError::Invalid { key, message } => {
            (key, message)
        }
        other => panic!("expected a keyed error, got {other:?}"),
    }
}

#[test]
fn minimal_policy_applies_the_mode_everywhere() {
    let policy = load_str(MINIMAL).unwrap();
    assert_eq!(policy.revision(), 1);
    assert!(!policy.strict());
    assert_eq!(policy.masking(), Masking::Masked);
    for kind in [SinkClass::Sql, SinkClass::Url, SinkClass::Redirect] {
        assert_eq!(
            policy.site_rule("any.sink", kind),
            (Action::Monitor, 100, OnError::Open)
        );
    }
}

#[test]
fn the_example_policy_parses_and_resolves() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.toml");
    let policy = load_file(path).unwrap();
    assert_eq!(policy.revision(), 42);
    assert_eq!(
        policy.site_rule("app.sql", SinkClass::Sql),
        (Action::Block, 100, OnError::Closed)
    );
    assert_eq!(
        policy.site_rule("app.fetch", SinkClass::Url),
        (Action::Block, 10, OnError::Open)
    );
    assert_eq!(
        policy.site_rule("app.read", SinkClass::Path),
        (Action::Monitor, 100, OnError::Open)
    );
    assert_eq!(
        policy.site_rule("sqlx.query", SinkClass::Sql),
        (Action::Block, 100, OnError::Closed)
    );
}

#[test]
fn sink_id_rules_override_their_class_field_by_field() {
    let policy = load_str(
        r#"
        schema_version = 1
        revision = 3
        mode = "block"
        canary = 40
        on_error = "closed"
        [sinks.shell]
        action = "monitor"
        [sink_ids."app.exec"]
        canary = 5
        [sink_ids."app.exec_strict"]
        action = "block"
        on_error = "open"
        "#,
    )
    .unwrap();
    assert_eq!(
        policy.site_rule("app.exec", SinkClass::Shell),
        (Action::Monitor, 5, OnError::Closed)
    );
    assert_eq!(
        policy.site_rule("app.exec_strict", SinkClass::Shell),
        (Action::Block, 40, OnError::Open)
    );
    assert_eq!(
        policy.site_rule("app.query", SinkClass::Sql),
        (Action::Block, 40, OnError::Closed)
    );
}

#[test]
fn masking_modes_parse() {
    for (text, masking) in [
        ("masked", Masking::Masked),
        ("length-only", Masking::LengthOnly),
        ("off", Masking::Off),
    ] {
        let policy = load_str(&format!("{MINIMAL}[events]\nexcerpt = \"{text}\"\n")).unwrap();
        assert_eq!(policy.masking(), masking);
        assert_eq!(masking.as_str(), text);
    }
}

#[test]
fn errors_name_their_key_path() {
    let (key, message) = key_of(&format!("{MINIMAL}[sinks.sql]\naction = \"deny\"\n"));
    assert_eq!(key, "sinks.sql.action");
    assert!(message.contains("deny"), "{message}");

    let (key, message) = key_of(&format!("{MINIMAL}[sinks.sql]\nacton = \"block\"\n"));
    assert_eq!(key, "sinks.sql.acton");
    assert!(message.contains("unknown field"), "{message}");

    let (key, message) = key_of(&format!("{MINIMAL}[sinks.sqll]\naction = \"block\"\n"));
    assert_eq!(key, "sinks.sqll");
    assert!(message.contains("expected one of"), "{message}");

    let (key, _) = key_of(&format!("{MINIMAL}[allow]\nips = [\"10.0.0.0/33\"]\n"));
    assert_eq!(key, "allow.ips[0]");

    let (key, _) = key_of(&format!("{MINIMAL}[allow]\nusers = [\"ok\", 7]\n"));
    assert_eq!(key, "allow.users[1]");

    let (key, _) = key_of(&format!(
        "{MINIMAL}[routes.\"/a\"]\non_error = \"closed\"\n"
    ));
    assert_eq!(key, "routes./a.on_error");

    let (key, message) = key_of(&format!("{MINIMAL}[sinks.url]\ncanary = 101\n"));
    assert_eq!(key, "sinks.url.canary");
    assert!(message.contains("101"), "{message}");

    let (key, _) = key_of(&format!("{MINIMAL}canary = -1\n"));
    assert_eq!(key, "canary");

    let (key, _) = key_of("schema_version = 1\nrevision = 1\nmode = \"allow\"\n");
    assert_eq!(key, "mode");

    let (key, message) = key_of("schema_version = 2\nrevision = 1\nmode = \"block\"\n");
    assert_eq!(key, "schema_version");
    assert!(message.contains("version 1"), "{message}");

    let (key, message) = key_of("schema_version = 1\nmode = \"block\"\n");
    assert!(key.is_empty() || key == ".", "{key}");
    assert!(message.contains("revision"), "{message}");

    let (key, _) = key_of(&format!("{MINIMAL}[allow]\nroutes = [\" \"]\n"));
    assert_eq!(key, "allow.routes[0]");
}

#[test]
fn syntax_errors_say_where() {
    let err = error("schema_version = 1\nrevision = = 2\n");
    let text = err.to_string();
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let mut text = String::from(MINIMAL);
    text.push('#');
    text.push_str(&"x".repeat(MAX_POLICY_BYTES));
    assert!(matches!(error(&text), PolicyError::TooLarge { .. }));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    std::fs::write(&path, &text).unwrap();
    assert!(matches!(
        load_file(&path),
        Err(PolicyError::TooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "{MINIMAL}x = {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(error(&deep), PolicyError::TooDeep);
    let deep_tables = format!("{MINIMAL}x = {}\n", "{ a = ".repeat(MAX_NESTING + 1));
    assert_eq!(error(&deep_tables), PolicyError::TooDeep);
    // Brackets inside strings and comments are not nesting.
    let quoted = format!(
        "{MINIMAL}[allow]\nroutes = [\"{}\", '{}'] # {}\n",
        "[".repeat(100),
        "{".repeat(100),
        "[".repeat(100)
    );
    load_str(&quoted).unwrap();
}

#[test]
fn non_utf8_and_missing_files_are_clear_errors() {
    assert_eq!(
        Policy::from_bytes(b"revision = 1\xff\n").unwrap_err(),
        PolicyError::NotUtf8
    );
    let err = load_file("/nonexistent/rasp/policy.toml").unwrap_err();
    assert!(matches!(err, PolicyError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/rasp/policy.toml"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Policy::from_bytes(&bytes);
    }

    #[test]
    fn arbitrary_policy_shaped_text_never_panics(
        body in "([a-z_\\.\\[\\]\"= {},0-9\\n#'-]|sinks|allow|action|canary|block|mode){0,64}"
    ) {
        let _ = load_str(&format!("{MINIMAL}{body}"));
    }
}

//! `'static` is not proof of a literal: `String::leak` makes a
//! `&'static str` out of any text. The trust traits accept it as a
//! literal, so the runtime check must not skip it.

use rasp::{Blocked, Reason, RequestContext, SourceMeta};

static QUERY: SourceMeta = SourceMeta {
    kind: "http.query",
    ..SourceMeta::MANUAL
};

/// `text` leaked to `'static`, built in a request that recorded `input`.
fn in_request<T>(input: &str, f: impl FnOnce(&'static str) -> T) -> T {
    let ctx = RequestContext::new();
    ctx.record_input(&QUERY, input.as_bytes());
    let leaked: &'static str = String::leak(input.to_owned());
    ctx.scope(|| f(leaked))
}

#[test]
fn leaked_sql_is_checked() {
    let input = "x' OR '1'='1";
    let refused = in_request(input, |name| {
        let text: &'static str = String::leak(format!("SELECT * FROM users WHERE name = '{name}'"));
        rasp::sql(text)
    });
    let blocked: Blocked = refused.expect_err("a leaked string is checked like any other");
    assert_eq!(blocked.reason, Reason::BreaksLiteral);
}

#[test]
fn leaked_shell_script_and_argument_are_checked() {
    let input = "x; touch /tmp/rasp-leaked";
    let script = in_request(input, |name| {
        rasp::process::shell(String::leak(format!("echo {name}")) as &'static str)
    });
    assert!(script.is_err(), "the script was not checked");
    let input = "--output=/etc/passwd";
    let refused = in_request(input, |arg| {
        let mut cmd = rasp::process::Command::new("curl");
        cmd.arg(arg);
        cmd.refused().map(|b| b.reason)
    });
    assert_eq!(
        refused,
        Some(Reason::OptionInjection),
        "the argument was not checked"
    );
}

#[test]
fn real_literals_still_pass() {
    let ok = in_request("tea", |_| rasp::sql("SELECT name FROM products"));
    assert!(ok.is_ok());
}

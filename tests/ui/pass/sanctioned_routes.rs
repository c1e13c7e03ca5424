//! The ways out of `Tainted` that compile, twin of the refused ones in
//! `tests/ui/fail`: facts from `inspect`, a literal chosen with `one_of`,
//! text kept tainted into a guard that checks it, and `compose!` of values
//! sanitized for the very context.

#[rasp::source(kind = "http.query")]
fn name() -> String {
    "report; rm -rf ~".to_owned()
}

fn main() {
    // Facts.
    assert_eq!(name().inspect(String::len), 16);
    assert!(name().inspect(|n| n.contains(';')));
    assert_eq!(name().inspect(|n| n.find(';')), Some(6));

    // A literal chosen by the input.
    assert_eq!(name().one_of(&["report", "invoice"]), None);

    // Text kept tainted, checked by the guard (outside a request context,
    // nothing is recorded, so it passes).
    let line = rasp::log::line(name().map(|n| format!("export of {n} failed"))).unwrap();
    assert_eq!(line.as_str(), "export of report; rm -rf ~ failed");
    let dir = "exports";
    let header = rasp::header::value(name().map_with(dir, |n, d| format!("{d}/{n}"))).unwrap();
    assert_eq!(header.as_bytes(), b"exports/report; rm -rf ~");
    let both = name().zip(name()).map(|(a, b)| format!("{a}{b}"));
    assert_eq!(both.inspect(String::len), 32);

    // Composed for one context from values sanitized for it.
    let script = rasp::compose!(rasp::Shell, "tar czf {}.tgz", name().sanitize::<rasp::Shell>());
    assert_eq!(script, "tar czf 'report; rm -rf ~'.tgz");
    let checked = rasp::process::shell(script).unwrap();
    assert_eq!(checked.as_str(), "tar czf 'report; rm -rf ~'.tgz");
    let page = rasp::compose!(rasp::Html, "<p>{}</p>", name().escaped::<rasp::Html>());
    assert_eq!(page.to_string(), "<p>report; rm -rf ~</p>");
    let sql = rasp::compose!(rasp::Sql, "SELECT 1 WHERE x = {}", name().sanitize::<rasp::Sql>());
    assert_eq!(sql, "SELECT 1 WHERE x = 'report; rm -rf ~'");
    assert!(rasp::sql(sql).is_ok());
}

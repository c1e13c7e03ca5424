//! The span-exact macros read their template at build time: a template
//! that is not a literal, an argument it does not use or lacks, a format
//! spec, a name it cannot find, an argument that is not text, a number or
//! a value made safe for the context, a URL whose scheme, host or port an
//! argument would write, and a path that is absolute or climbs are
//! spanned errors.

fn main() {
    let template = "SELECT {}";
    let name = rasp::Tainted::new("ann".to_owned(), &rasp::SourceMeta::MANUAL);
    let _ = rasp::sql!(template, name.clone());
    let _ = rasp::sql!("SELECT '{}', '{}'", name.clone());
    let _ = rasp::sql!("SELECT 1", name.clone());
    let _ = rasp::sql!("SELECT '{:>8}'", name.clone());
    let _ = rasp::sql!("SELECT '{missing}'");
    let _ = rasp::sql!("SELECT '{}'", vec![1u8]);
    let _ = rasp::shell!("echo {}", name.clone().sanitize::<rasp::Html>());
    let _ = rasp::url!("https://{}.example.com/", name.clone());
    let _ = rasp::url!("https://api.example.com:{}/", 8080);
    let _ = rasp::url!("ftp://files.example.com/{}", name.clone());
    let root = rasp::fs::Root::new(".").unwrap();
    let _ = rasp::path!(root, "/etc/{}", name.clone());
    let _ = rasp::path!(root, "../{}", name.clone());
    let _ = rasp::redirect!("//{}/login", name.clone());
}

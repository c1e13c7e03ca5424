//! The span-exact macros read their template at build time: a template
//! that is not a literal, an argument it does not use or lacks, a format
//! spec, a name it cannot find, and an argument that is not text, a
//! number or a value made safe for the context are spanned errors.

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
}

//! The tainted value has no hidden public way out: the accessor rasp's
//! guards once used is gone, and `Tainted` has no other.

#[rasp::source(kind = "http.query")]
fn name() -> String {
    "x' OR 1=1 --".to_owned()
}

fn main() {
    let _: String = name().__into_inner_asserted();
}

//! A closure that captures cannot carry the value out: `inspect` and
//! `map` take a `fn`, so writing it to a variable outside is refused.

#[rasp::source(kind = "http.query")]
fn term() -> String {
    "x' OR 1=1 --".to_owned()
}

fn main() {
    let mut stolen = String::new();
    let _ = term().inspect(|v| {
        stolen = v.clone();
        true
    });
    let _ = term().map(|v| {
        stolen.push_str(&v);
        v
    });
    let _ = stolen;
}

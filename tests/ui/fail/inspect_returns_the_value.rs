//! `inspect` yields facts, never the value: returning the string (by
//! `String::clone`, a closure, or a field of a struct) does not compile,
//! since `String` is not `InjectionFree`.

#[rasp::source(kind = "http.query")]
fn term() -> String {
    "x' OR 1=1 --".to_owned()
}

struct Form {
    name: String,
}

#[rasp::source(kind = "http.form")]
fn form() -> Form {
    Form {
        name: "x' OR 1=1 --".to_owned(),
    }
}

impl rasp::Recordable for Form {
    fn record(&self, sink: &mut dyn FnMut(&[u8])) {
        sink(self.name.as_bytes());
    }
}

fn main() {
    let _: String = term().inspect(String::clone);
    let _: String = term().inspect(|v| v.clone());
    let _: String = form().inspect(|f| f.name.clone());
}

struct Form {
    name: String,
}

#[rasp::source(kind = "http.form")]
fn form() -> Form {
    Form {
        name: String::new(),
    }
}

fn main() {
    let _ = form().inspect(|f| f.name.len());
}

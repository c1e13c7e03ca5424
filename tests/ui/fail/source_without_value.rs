#[rasp::source(kind = "http.query")]
fn nothing() {}

#[rasp::source(kind = "http.query")]
fn unit() -> () {}

#[rasp::source(kind = "http.query")]
fn never() -> ! {
    panic!()
}

fn main() {}

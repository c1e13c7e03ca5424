//! `|safe` renders raw only what is trusted for HTML: a value sanitized
//! for a path has no `Display`, so the template does not compile.
use askama::Template;

#[derive(Template)]
#[template(ext = "html", source = "<a href=\"/files/{{ name|safe }}\">x</a>")]
struct Link {
    name: rasp::Sanitized<String, rasp::Path>,
}

fn main() {}

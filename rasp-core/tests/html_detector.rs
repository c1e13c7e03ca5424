//! The HTML injection detector on realistic pages: markup it must flag in
//! text, attributes, raw-text elements, comments and links, look-alikes
//! it must let through, the HTML sanitizer, hostile bytes it must survive,
//! and html5ever (through `scraper`, the parser browsers follow) as the
//! oracle: whenever an input changes the parsed page, the detector flags
//! it.

mod sanitizer_support;

use memchr::memmem::Finder;
use proptest::prelude::*;
use rasp_core::detect::html::detect;
use rasp_core::{Escaped, Html, Reason};
use scraper::Node;

fn reason(html: &str, input: &str) -> Option<Reason> {
    let finding = detect(html.as_bytes(), &Finder::new(input.as_bytes()))?;
    assert!(
        html.as_bytes()[finding.offset..].starts_with(input.as_bytes()),
        "the reported offset is not an occurrence of the input"
    );
    Some(finding.reason)
}

/// Places where an application puts a value into a page.
const TEMPLATES: &[&str] = &[
    "<div class=\"post\"><p>{}</p></div>",
    "<div title=\"{}\">t</div>",
    "<div title='{}'>t</div>",
    "<div title={}>t</div>",
    "<textarea name=\"c\">{}</textarea>",
    "<title>{}</title>",
    "<!-- note: {} -->",
    "<a href=\"{}\">link</a>",
    "<img src={} alt=\"a\">",
];

fn render(template: &str, input: &str) -> String {
    template.replacen("{}", input, 1)
}

/// `(template, input, reason)`: the input changes the page's markup.
const INJECTIONS: &[(&str, &str, Reason)] = &[
    ("<p>{}</p>", "<script>alert(1)</script>", Reason::OpensTag),
    (
        "<p>{}</p>",
        "<img src=x onerror=alert(1)>",
        Reason::OpensTag,
    ),
    ("<p>{}</p>", "<svg onload=alert(1)>", Reason::OpensTag),
    ("<p>{}</p>", "<ScRiPt>alert(1)</sCrIpT>", Reason::OpensTag),
    ("<p>{}</p>", "</p><form action=//evil>", Reason::OpensTag),
    ("<p>{}</p>", "x<!--", Reason::OpensComment),
    ("<p>{}</p>", "<![CDATA[x]]>", Reason::OpensComment),
    ("<p>{}</p>", "<?xml x?>", Reason::OpensComment),
    ("<p>{}</p>", "</ x>", Reason::OpensComment),
    (
        "<textarea>{}</textarea>",
        "</textarea><script>alert(1)</script>",
        Reason::OpensTag,
    ),
    (
        "<title>{}</title>",
        "</TITLE><script>x</script>",
        Reason::OpensTag,
    ),
    (
        "<script>var q = \"{}\";</script>",
        "</script><script>alert(1)//",
        Reason::OpensTag,
    ),
    (
        "<style>p { color: {} }</style>",
        "red}</style><script>x",
        Reason::OpensTag,
    ),
    (
        "<!-- {} -->",
        "--><script>alert(1)</script>",
        Reason::OpensTag,
    ),
    ("<!-- {} -->", "--!><img src=x onerror=y>", Reason::OpensTag),
    (
        "<div title=\"{}\">t</div>",
        "x\" onmouseover=\"alert(1)",
        Reason::BreaksAttribute,
    ),
    (
        "<div title=\"{}\">t</div>",
        "x\"><script>alert(1)</script>",
        Reason::BreaksAttribute,
    ),
    (
        "<div title='{}'>t</div>",
        "x' onclick='alert(1)",
        Reason::BreaksAttribute,
    ),
    (
        "<img src={} alt=a>",
        "x onerror=alert(1)",
        Reason::BreaksAttribute,
    ),
    (
        "<img src={} alt=a>",
        "x>\n<script>y",
        Reason::BreaksAttribute,
    ),
    ("<div title={}>t</div>", "\"a b\"", Reason::BreaksAttribute),
    (
        "<input {}>",
        "autofocus onfocus=alert(1)",
        Reason::BreaksAttribute,
    ),
    (
        "<a href=\"{}\">l</a>",
        "javascript:alert(1)",
        Reason::ScriptUrl,
    ),
    (
        "<a href='{}'>l</a>",
        " JavaScript:alert(1)",
        Reason::ScriptUrl,
    ),
    (
        "<a href=\"{}\">l</a>",
        "java\tscript:alert(1)",
        Reason::ScriptUrl,
    ),
    // In an unquoted value the tab already ends the value.
    (
        "<a href={}>l</a>",
        "java\tscript:alert(1)",
        Reason::BreaksAttribute,
    ),
    (
        "<a href=\"{}\">l</a>",
        "&#106;avascript&colon;alert(1)",
        Reason::ScriptUrl,
    ),
    (
        "<a href=\"{}\">l</a>",
        "&#x6A;avascript:alert(1)",
        Reason::ScriptUrl,
    ),
    (
        "<a href=\"{}\">l</a>",
        "vbscript:msgbox(1)",
        Reason::ScriptUrl,
    ),
    (
        "<iframe src=\"{}\"></iframe>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        Reason::ScriptUrl,
    ),
    (
        "<object data=\"{}\"></object>",
        "data:image/svg+xml,<svg onload=alert(1)>",
        Reason::ScriptUrl,
    ),
    (
        "<form><button formaction=\"{}\">go</button></form>",
        "javascript:alert(1)",
        Reason::ScriptUrl,
    ),
];

/// `(template, input)`: the input is text or a value where it stands.
const BENIGN: &[(&str, &str)] = &[
    ("<p>{}</p>", "a < b"),
    ("<p>{}</p>", "3 <4 and 5> 2"),
    ("<p>{}</p>", "I <3 Rust"),
    ("<p>{}</p>", "Fish & Chips; AT&T"),
    ("<p>{}</p>", "\"quoted\" and 'single'"),
    ("<p>{}</p>", "x => x + 1 // -->"),
    ("<p>{}</p>", "</>"),
    ("<p>{}</p>", "Zoë 🎉 山田"),
    ("<p>{}</p>", "javascript:alert(1)"),
    ("<div title=\"{}\">t</div>", "it's <b>bold</b> & x=1 > 0"),
    ("<div title='{}'>t</div>", "say \"hi\" <script>"),
    ("<div title={}>t</div>", "plain-value"),
    ("<textarea>{}</textarea>", "<script>alert(1)</script></p>"),
    ("<textarea>{}</textarea>", "</textareax"),
    ("<title>{}</title>", "a <b> c"),
    ("<!-- {} -->", "<p>x</p> -- - ->"),
    ("<a href=\"{}\">l</a>", "https://example.com/a?b=c&d=e"),
    ("<a href=\"{}\">l</a>", "/search?q=javascript:alert"),
    ("<a href=\"/u/{}\">l</a>", "javascript:alert(1)"),
    ("<a href=\"{}\">l</a>", "mailto:ann@example.com"),
    ("<img src=\"{}\">", "data:image/png;base64,iVBORw0KGgo="),
    ("<a title=\"{}\">l</a>", "javascript:alert(1)"),
];

#[test]
fn flags_markup_injections() {
    for &(template, input, expected) in INJECTIONS {
        let page = render(template, input);
        assert_eq!(reason(&page, input), Some(expected), "{page}");
    }
}

#[test]
fn lets_look_alikes_through() {
    for &(template, input) in BENIGN {
        let page = render(template, input);
        assert_eq!(reason(&page, input), None, "{page}");
        assert_eq!(shape(&page), shape(&render(template, "x")), "{page}");
    }
}

#[test]
fn coincidence_with_the_template_passes() {
    let page = "<div class=\"c\" title=\"t\"><p>title</p><p>class</p><p>div</p></div>";
    for input in ["title", "class", "div", "post"] {
        assert_eq!(reason(page, input), None, "{input}");
    }
    assert_eq!(reason("<textarea>area</textarea>", "area"), None);
}

#[test]
fn every_occurrence_is_judged() {
    // Benign in the text, breaking out in the attribute.
    let page = "<p>a\"b</p><div title=\"a\"b\">t</div>";
    assert_eq!(reason(page, "a\"b"), Some(Reason::BreaksAttribute));
}

#[test]
fn plaintext_holds_no_markup() {
    assert_eq!(
        reason("<plaintext><script>x</script>", "<script>x</script>"),
        None
    );
}

#[test]
fn escaped_input_keeps_the_page_shape() {
    for &(_, input, _) in INJECTIONS {
        // Escaping is for text and quoted attribute values; an unquoted
        // value ends at a space, which escaping keeps.
        for template in TEMPLATES[..7].iter().filter(|t| !t.contains("={}")) {
            let escaped = Escaped::<Html>::new(input).to_string();
            let page = render(template, &escaped);
            assert_eq!(reason(&page, &escaped), None, "{page}");
            assert_eq!(shape(&page), shape(&render(template, "x")), "{page}");
        }
    }
}

#[test]
fn survives_hostile_sizes() {
    let open = "<".repeat(1 << 20);
    let page = format!("<p>{open}a</p>");
    assert_eq!(reason(&page, &open), Some(Reason::OpensTag));
    let quotes = "\"".repeat(1 << 16);
    let page = format!("<a title=\"{quotes}\">");
    assert_eq!(reason(&page, &quotes), Some(Reason::BreaksAttribute));
    let text = "a".repeat(1 << 20);
    assert_eq!(reason(&text, "aa"), None);
}

const URL_ATTRIBUTES: &[&str] = &["href", "src", "action", "formaction", "data"];

/// What a browser builds from `html`: every element with its attribute
/// names, every comment, and whether a URL attribute runs script.
fn shape(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    document
        .tree
        .values()
        .filter_map(|node| match node {
            Node::Element(element) => {
                let mut attrs: Vec<String> = element
                    .attrs()
                    .map(|(name, value)| {
                        let url = value
                            .trim_start_matches(|c: char| c <= ' ')
                            .replace(['\t', '\n', '\r'], "")
                            .to_ascii_lowercase();
                        let script = URL_ATTRIBUTES.contains(&name)
                            && (url.starts_with("javascript:")
                                || url.starts_with("vbscript:")
                                || url.starts_with("data:text/html"));
                        format!("{name}{}", if script { "!script" } else { "" })
                    })
                    .collect();
                attrs.sort();
                Some(format!("<{} {}>", element.name(), attrs.join(" ")))
            }
            Node::Comment(_) => Some("<!---->".to_owned()),
            _ => None,
        })
        .collect()
}

/// Pieces of markup and of script URLs, for inputs that come close to
/// every boundary.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "<",
        ">",
        "\"",
        "'",
        "=",
        " ",
        "/",
        "!",
        "-",
        "--",
        "?",
        "a",
        "img",
        "script",
        "textarea",
        "title",
        "onerror",
        "x",
        "1",
        "&",
        "#",
        ";",
        "&#106;",
        "java",
        "javascript:",
        ":",
        "\t",
        "data:text/html,",
        "&colon;",
        "]]>",
        "<!--",
        "-->",
    ])
}

fn input() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..8).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The oracle: an input that changes what html5ever builds (a new
    /// element or attribute, a comment, a script URL) is flagged.
    #[test]
    fn every_change_the_parser_sees_is_flagged(
        template in prop::sample::select(TEMPLATES.to_vec()),
        input in input(),
    ) {
        let page = render(template, &input);
        if input.len() >= 2 && shape(&page) != shape(&render(template, "x")) {
            prop_assert!(
                reason(&page, &input).is_some(),
                "{page:?} changes the page and was not flagged"
            );
        }
    }

    /// Escaped input is never flagged in text or quoted attributes.
    #[test]
    fn sanitized_input_is_never_flagged(
        template in prop::sample::select(TEMPLATES[..3].to_vec()),
        input in input(),
        noise in any::<String>(),
    ) {
        for raw in [input, noise] {
            let escaped = sanitizer_support::sanitized::<Html>(&raw);
            let page = render(template, &escaped);
            // Inputs shorter than two bytes are not looked for, and one
            // that also spells the template's own markup (`s=` in
            // `class=`) is judged there too.
            if escaped.len() < 2 || page.matches(escaped.as_str()).count() > 1 {
                continue;
            }
            prop_assert_eq!(reason(&page, &escaped), None, "{}", page);
            // The raw input, if it is in the page at all, is there as text.
            let placed = template.find("{}").unwrap();
            let only_where_placed = page
                .match_indices(raw.as_str())
                .all(|(at, _)| at >= placed && at + raw.len() <= placed + escaped.len());
            if raw.len() >= 2 && only_where_placed {
                prop_assert_eq!(detect(page.as_bytes(), &Finder::new(raw.as_bytes())), None);
            }
        }
    }

    /// Arbitrary bytes never panic, and a finding is a real occurrence.
    #[test]
    fn arbitrary_bytes_never_panic(
        html in prop::collection::vec(any::<u8>(), 0..300),
        input in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        if let Some(finding) = detect(&html, &Finder::new(&input)) {
            prop_assert!(html[finding.offset..].starts_with(&input));
        }
    }
}

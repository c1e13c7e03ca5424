//! HTML injection (cross-site scripting) detector for raw-HTML sinks.
//!
//! An application builds HTML by hand (`format!("<p>{comment}</p>")`) or
//! marks a value as safe in a template. The browser splits the page into
//! text, tags, attributes and comments; an input that changes that split
//! runs script in the page. The detector lexes the sink text the way the
//! HTML tokenizer does — text, tag names, attribute names, quoted and
//! unquoted attribute values, comments, and the raw text of `<script>`,
//! `<style>`, `<textarea>`, `<title>` and their kin — and flags an input
//! when one of its own bytes decides a boundary:
//!
//! - in text, a `<` that opens a tag or an end tag (`<script`, `<img`,
//!   `</textarea`) — [`Reason::OpensTag`]; one that opens a comment,
//!   a `<![CDATA[` section, a `<!…>` or `<?…>` construct —
//!   [`Reason::OpensComment`];
//! - in raw text, the `<` of the element's own end tag (`</textarea>`),
//!   and in a comment the `>` that ends it — [`Reason::OpensTag`];
//! - inside a tag, the quote that ends a quoted attribute value, the space
//!   or `>` that ends an unquoted one, an `=` that gives an attribute a
//!   value (`onerror=`), the space, `/` or `>` that ends a tag name or an
//!   attribute — [`Reason::BreaksAttribute`];
//! - in a URL attribute (`href`, `src`, `action`, `formaction`, …), the
//!   scheme of a `javascript:`, `vbscript:` or script-capable `data:` URL
//!   (`data:text/html`, `data:image/svg+xml`), after the character
//!   references, tabs and line breaks browsers remove are taken into
//!   account — [`Reason::ScriptUrl`].
//!
//! A `<` that opens nothing (`a < b`, `3 <4`, `<3`), `>`, `&` and quotes in
//! text, and markup characters inside a quoted attribute value are text
//! to the browser and pass. An input that only coincides with the
//! template's own markup (a user named `title` on a page with a `title=`
//! attribute) passes too: the boundary is decided by the template's
//! separator, not by a byte of the input.
//!
//! Inputs inside `<script>` or `<style>` text, inside `on*` event-handler
//! attributes or `style` attributes are in a JavaScript or CSS context,
//! whose grammar this detector does not lex: only breaking out of the
//! element is found there.
//!
//! The cost is one pass over the sink text, skipping text, quoted values,
//! comments and raw text with `memchr`, and a substring search per
//! occurrence of the input; nothing is allocated.
//!
//! The lexer is written by hand, and not taken from html5ever, for cost and
//! for what it reports. html5ever never fails (HTML's error recovery), but
//! it hands over owned, decoded tokens — character references resolved,
//! quotes dropped, attributes in a `Vec` — with a line number and no byte
//! offsets, so it cannot say which byte of the text decided a boundary,
//! which is the detector's whole question. Here one pass keeps only the
//! offsets of the current tag and allocates nothing.
//!
//! Measured (`benches/lexers.rs`, medians of one run on a shared 2-vCPU
//! machine) on a 1 262-byte product-review fragment: this lexer's pass over
//! the whole fragment (the detector with an input found only in the last
//! text node) takes 2.6 µs, html5ever's tokenizer with a sink that drops
//! every token 33.7 µs (**13×**; 10–16× over five runs) and
//! `scraper::Html::parse_fragment`, html5ever's tokenizer and tree builder,
//! 50.4 µs (**19×**; 15–20×). A check with the input in the middle of the
//! fragment stops after its last occurrence: 1.25 µs. Reproduce with
//! `cargo bench -p rasp-detect --bench lexers -- --warm-up-time 1
//! --measurement-time 3`; the figures are in `docs/benchmarks.md`.

use crate::Needle;
use memchr::memchr;
#[cfg(test)]
use memchr::memmem::Finder;

use crate::{Finding, Reason};

/// Whether the input searched by `finder` changes the markup structure of
/// the HTML text `html`.
///
/// `finder.needle()` is the recorded input (any bytes). Returns the first
/// occurrence of the input that decides a tag, attribute, comment or
/// script-URL boundary (see the [module docs](self)), or `None`.
#[inline]
pub fn detect(html: &[u8], finder: &dyn Needle) -> Option<Finding> {
    let len = finder.needle().len();
    if len == 0 || len > html.len() {
        return None;
    }
    let first = finder.find(html)?;
    let mut lexer = Lexer {
        text: html,
        occurrences: Occurrences {
            text: html,
            finder,
            len,
            next: Some(first),
        },
        tag: Tag::default(),
        foreign: 0,
        raw_start: 0,
    };
    match lexer.run() {
        Ok(()) => None,
        Err(found) => found,
    }
}

/// Ends lexing: `Some` with a finding, or `None` when no occurrence of the
/// input is left to judge.
type Stop = Option<Finding>;

/// Occurrences of the input, asked in text order.
struct Occurrences<'t, 'f> {
    text: &'t [u8],
    finder: &'f dyn Needle,
    len: usize,
    /// The first occurrence at or after the lowest start still of
    /// interest; `None` once there is none.
    next: Option<usize>,
}

impl Occurrences<'_, '_> {
    /// The start of an occurrence that overlaps `start..end`. Calls come
    /// with non-decreasing `start`, so the search only moves forward.
    /// `Err(None)` when no occurrence is left at all.
    #[inline]
    fn overlapping(&mut self, start: usize, end: usize) -> Result<Option<usize>, Stop> {
        let lowest = (start + 1).saturating_sub(self.len);
        loop {
            let Some(next) = self.next else {
                return Err(None);
            };
            if next >= lowest {
                return Ok((next < end).then_some(next));
            }
            self.next = self
                .finder
                .find(&self.text[lowest..])
                .map(|found| found + lowest);
        }
    }
}

/// What the lexer knows of the tag it is in.
#[derive(Default, Clone, Copy)]
struct Tag {
    end_tag: bool,
    name_start: usize,
    name_end: usize,
    attr_start: usize,
    attr_end: usize,
    value_start: usize,
}

#[derive(Clone, Copy)]
enum State {
    Data,
    /// The text of a raw-text or RCDATA element, which only its own end
    /// tag ends.
    RawText(&'static [u8]),
    Comment,
    BogusComment,
    TagName,
    BeforeAttrName,
    AttrName,
    AfterAttrName,
    BeforeAttrValue,
    Quoted(u8),
    AfterQuoted,
    Unquoted,
}

struct Lexer<'t, 'f> {
    text: &'t [u8],
    occurrences: Occurrences<'t, 'f>,
    tag: Tag,
    /// How many `<svg>` and `<math>` elements are open: inside them
    /// (foreign content) `<style>`, `<title>` and their kin hold markup,
    /// not raw text.
    foreign: u32,
    /// Where the text of the raw-text element being lexed starts.
    raw_start: usize,
}

/// Elements whose content is raw text or RCDATA: markup inside them is
/// text until their end tag.
const RAW_TEXT: [&[u8]; 9] = [
    b"script",
    b"style",
    b"textarea",
    b"title",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
    b"noscript",
];

/// Attributes whose value is a URL that a browser follows or loads.
const URL_ATTRIBUTES: [&[u8]; 13] = [
    b"href",
    b"src",
    b"action",
    b"formaction",
    b"xlink:href",
    b"poster",
    b"background",
    b"cite",
    b"data",
    b"codebase",
    b"dynsrc",
    b"lowsrc",
    b"longdesc",
];

/// URL attributes whose URL decides where script comes from or where a
/// form's data goes, as (element, attribute); an empty element is any.
/// An input that decides the origin of one of these runs the attacker's
/// script in the page (`<script src>`, `<base href>` for every relative
/// script after it, `<link href>` for styles and imports, plugins) or
/// sends the user's form to them (`<form action>`, `formaction`).
const ORIGIN_ATTRIBUTES: [(&[u8], &[u8]); 7] = [
    (b"script", b"src"),
    (b"base", b"href"),
    (b"link", b"href"),
    (b"form", b"action"),
    (b"", b"formaction"),
    (b"object", b"data"),
    (b"embed", b"src"),
];

/// HTML start tags that close foreign content (`<svg>`, `<math>`): the
/// tree builder pops back to HTML before inserting them.
const BREAKOUT: [&[u8]; 44] = [
    b"b",
    b"big",
    b"blockquote",
    b"body",
    b"br",
    b"center",
    b"code",
    b"dd",
    b"div",
    b"dl",
    b"dt",
    b"em",
    b"embed",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"head",
    b"hr",
    b"i",
    b"img",
    b"li",
    b"listing",
    b"menu",
    b"meta",
    b"nobr",
    b"ol",
    b"p",
    b"pre",
    b"ruby",
    b"s",
    b"small",
    b"span",
    b"strong",
    b"strike",
    b"sub",
    b"sup",
    b"table",
    b"tt",
    b"u",
    b"ul",
    b"var",
];

/// How far the start of the URL `value` decides its origin: through the
/// authority of an absolute or scheme-relative URL (`https://host`,
/// `//host`), through the scheme of another absolute URL, and nothing of a
/// path-relative one (`/x`, `x.js`), which stays on the page's origin.
/// Leading spaces and controls, which URL parsers strip, count with it.
fn origin_end(value: &[u8]) -> usize {
    let lead = value.iter().take_while(|&&b| b <= b' ').count();
    let url = &value[lead..];
    let is_slash = |b: &u8| matches!(b, b'/' | b'\\');
    let scheme = url
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .filter(|&k| k > 0 && url[0].is_ascii_alphabetic() && url[k] == b':');
    let after_scheme = scheme.map_or(0, |k| k + 1);
    let rest = &url[after_scheme..];
    if rest.len() >= 2 && is_slash(&rest[0]) && is_slash(&rest[1]) {
        let authority = rest[2..]
            .iter()
            .position(|b| is_slash(b) || matches!(b, b'?' | b'#'))
            .map_or(rest.len(), |k| k + 2);
        return lead + after_scheme + authority;
    }
    match scheme {
        Some(_) => lead + after_scheme,
        None => 0,
    }
}

/// Where the URL of a `<meta http-equiv=refresh>` `content` value starts
/// (`0; url=…`, `0;URL='…'`), if it names one.
fn refresh_url(value: &[u8]) -> Option<usize> {
    let lower = |k: usize| value.get(k).map(u8::to_ascii_lowercase);
    let mut k = 0;
    while k + 3 <= value.len() {
        if lower(k) == Some(b'u') && lower(k + 1) == Some(b'r') && lower(k + 2) == Some(b'l') {
            let mut at = k + 3;
            while value.get(at).is_some_and(|&b| is_space(b)) {
                at += 1;
            }
            if value.get(at) == Some(&b'=') {
                at += 1;
                while value
                    .get(at)
                    .is_some_and(|&b| is_space(b) || b == b'\'' || b == b'"')
                {
                    at += 1;
                }
                return Some(at);
            }
        }
        k += 1;
    }
    None
}

#[inline]
const fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// Byte classes that end a run inside a tag, one bit each.
const SPACE: u8 = 1;
const SLASH: u8 = 2;
const EQUALS: u8 = 4;
const GT: u8 = 8;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'\t' as usize] = SPACE;
    table[b'\n' as usize] = SPACE;
    table[0x0c] = SPACE;
    table[b'\r' as usize] = SPACE;
    table[b' ' as usize] = SPACE;
    table[b'/' as usize] = SLASH;
    table[b'=' as usize] = EQUALS;
    table[b'>' as usize] = GT;
    table
};

/// The index of the first byte at or after `from` in one of the classes
/// of `mask`, or the length of `t`: a tag name, attribute name or
/// unquoted value is skipped in one tight loop.
#[inline]
fn find_class(t: &[u8], from: usize, mask: u8) -> usize {
    t[from..]
        .iter()
        .position(|&b| CLASS[usize::from(b)] & mask != 0)
        .map_or(t.len(), |p| from + p)
}

impl Lexer<'_, '_> {
    /// Flags `reason` if an occurrence of the input covers byte `at`, the
    /// byte that decides a boundary.
    #[inline]
    fn boundary(&mut self, at: usize, reason: Reason) -> Result<(), Stop> {
        self.span(at, at + 1, reason)
    }

    /// Flags `reason` if an occurrence of the input overlaps `start..end`.
    #[inline]
    fn span(&mut self, start: usize, end: usize, reason: Reason) -> Result<(), Stop> {
        match self.occurrences.overlapping(start, end)? {
            Some(offset) => Err(Some(Finding { offset, reason })),
            None => Ok(()),
        }
    }

    fn run(&mut self) -> Result<(), Stop> {
        let t = self.text;
        let mut state = State::Data;
        let mut i = 0;
        while i < t.len() {
            let b = t[i];
            match state {
                State::Data => {
                    let Some(lt) = memchr(b'<', &t[i..]) else {
                        return Ok(());
                    };
                    let lt = i + lt;
                    (state, i) = self.markup_open(lt)?;
                }
                State::RawText(name) => {
                    let Some(lt) = memchr(b'<', &t[i..]) else {
                        if name == b"script" {
                            self.script_text(self.raw_start, t.len(), false)?;
                        }
                        return Ok(());
                    };
                    let lt = i + lt;
                    let name_end = lt + 2 + name.len();
                    let ends = t.get(lt + 1) == Some(&b'/')
                        && t.get(lt + 2..name_end)
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        && t.get(name_end)
                            .is_some_and(|&d| is_space(d) || d == b'/' || d == b'>');
                    if ends {
                        if name == b"script" {
                            self.script_text(self.raw_start, lt, false)?;
                        }
                        self.boundary(lt, Reason::OpensTag)?;
                        self.tag = Tag {
                            end_tag: true,
                            name_start: lt + 2,
                            ..Tag::default()
                        };
                        (state, i) = (State::TagName, name_end);
                    } else {
                        i = lt + 1;
                    }
                }
                State::Comment | State::BogusComment => {
                    let Some(gt) = memchr(b'>', &t[i..]) else {
                        return Ok(());
                    };
                    let gt = i + gt;
                    let closes = matches!(state, State::BogusComment)
                        || t[..gt].ends_with(b"--")
                        || t[..gt].ends_with(b"--!");
                    if closes {
                        self.boundary(gt, Reason::OpensTag)?;
                        state = State::Data;
                    }
                    i = gt + 1;
                }
                State::TagName => {
                    i = find_class(t, i, SPACE | SLASH | GT);
                    if i < t.len() {
                        self.tag.name_end = i;
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = self.after_separator(i)?;
                    }
                }
                State::BeforeAttrName => {
                    if is_space(b) {
                        i += 1;
                    } else if b == b'/' || b == b'>' {
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = self.after_separator(i)?;
                    } else {
                        self.tag.attr_start = i;
                        (state, i) = (State::AttrName, i + 1);
                    }
                }
                State::AttrName => {
                    i = find_class(t, i, SPACE | SLASH | EQUALS | GT);
                    if let Some(&b) = t.get(i) {
                        self.tag.attr_end = i;
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = match b {
                            b'=' => (State::BeforeAttrValue, i + 1),
                            b'/' | b'>' => self.after_separator(i)?,
                            _ => (State::AfterAttrName, i + 1),
                        };
                    }
                }
                State::AfterAttrName => {
                    if is_space(b) {
                        i += 1;
                    } else if matches!(b, b'/' | b'=' | b'>') {
                        self.boundary(i, Reason::BreaksAttribute)?;
                        if b == b'=' {
                            (state, i) = (State::BeforeAttrValue, i + 1);
                        } else {
                            (state, i) = self.after_separator(i)?;
                        }
                    } else {
                        self.tag.attr_start = i;
                        (state, i) = (State::AttrName, i + 1);
                    }
                }
                State::BeforeAttrValue => {
                    if is_space(b) {
                        // A space here moves the value to whatever follows:
                        // an input that is empty but for spaces makes the
                        // template's next attribute the value.
                        self.boundary(i, Reason::BreaksAttribute)?;
                        i += 1;
                    } else if b == b'"' || b == b'\'' {
                        self.boundary(i, Reason::BreaksAttribute)?;
                        self.tag.value_start = i + 1;
                        (state, i) = (State::Quoted(b), i + 1);
                    } else if b == b'>' {
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = self.after_separator(i)?;
                    } else {
                        self.tag.value_start = i;
                        (state, i) = (State::Unquoted, i + 1);
                    }
                }
                State::Quoted(quote) => {
                    let Some(end) = memchr(quote, &t[i..]) else {
                        return self.value_end(t.len());
                    };
                    let end = i + end;
                    self.value_end(end)?;
                    self.boundary(end, Reason::BreaksAttribute)?;
                    (state, i) = (State::AfterQuoted, end + 1);
                }
                State::AfterQuoted => {
                    if is_space(b) || b == b'/' || b == b'>' {
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = self.after_separator(i)?;
                    } else {
                        self.tag.attr_start = i;
                        (state, i) = (State::AttrName, i + 1);
                    }
                }
                State::Unquoted => {
                    i = find_class(t, i, SPACE | GT);
                    if i < t.len() {
                        self.value_end(i)?;
                        self.boundary(i, Reason::BreaksAttribute)?;
                        (state, i) = self.after_separator(i)?;
                    }
                }
            }
        }
        match state {
            State::Unquoted => self.value_end(t.len()),
            _ => Ok(()),
        }
    }

    /// Handles the `<` at `lt` in text: the state it opens and where
    /// lexing resumes.
    fn markup_open(&mut self, lt: usize) -> Result<(State, usize), Stop> {
        let t = self.text;
        let at = |k: usize| t.get(lt + k).copied();
        let tag = |lexer: &mut Self, end_tag: bool, name_start: usize| {
            lexer.boundary(lt, Reason::OpensTag)?;
            lexer.tag = Tag {
                end_tag,
                name_start,
                ..Tag::default()
            };
            Ok((State::TagName, name_start + 1))
        };
        match at(1) {
            Some(c) if c.is_ascii_alphabetic() => tag(self, false, lt + 1),
            Some(b'/') => match at(2) {
                Some(c) if c.is_ascii_alphabetic() => tag(self, true, lt + 2),
                // `</>` is dropped by the tokenizer; `</` at the end is text.
                Some(b'>') => Ok((State::Data, lt + 3)),
                None => Ok((State::Data, lt + 2)),
                Some(_) => self.comment(lt, State::BogusComment, lt + 2),
            },
            Some(b'!') if t[lt + 2..].starts_with(b"--") => {
                self.boundary(lt, Reason::OpensComment)?;
                // `<!-->` and `<!--->` are empty comments closed at once.
                let body = lt + 4;
                let close = match (t.get(body), t.get(body + 1)) {
                    (Some(b'>'), _) => Some(body),
                    (Some(b'-'), Some(b'>')) => Some(body + 1),
                    _ => None,
                };
                match close {
                    Some(gt) => {
                        self.boundary(gt, Reason::OpensTag)?;
                        Ok((State::Data, gt + 1))
                    }
                    None => Ok((State::Comment, body)),
                }
            }
            Some(b'!') => self.comment(lt, State::BogusComment, lt + 2),
            Some(b'?') => self.comment(lt, State::BogusComment, lt + 1),
            _ => Ok((State::Data, lt + 1)),
        }
    }

    fn comment(&mut self, lt: usize, state: State, resume: usize) -> Result<(State, usize), Stop> {
        self.boundary(lt, Reason::OpensComment)?;
        Ok((state, resume))
    }

    /// After a separator at `at` inside a tag (space, `/` or `>`): where
    /// lexing goes on.
    #[inline]
    fn after_separator(&mut self, at: usize) -> Result<(State, usize), Stop> {
        if self.text[at] == b'>' {
            self.close_tag(at).map(|state| (state, at + 1)).ok_or(None)
        } else {
            Ok((State::BeforeAttrName, at + 1))
        }
    }

    /// The state after the `>` at `gt` that closes the current tag, or
    /// `None` when the rest of the text can hold no markup (`<plaintext>`).
    fn close_tag(&mut self, gt: usize) -> Option<State> {
        let name = &self.text[self.tag.name_start..self.tag.name_end];
        let is_foreign_root =
            name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"math");
        if self.tag.end_tag {
            if is_foreign_root {
                self.foreign = self.foreign.saturating_sub(1);
            }
            return Some(State::Data);
        }
        if self.foreign > 0 {
            // An HTML element in foreign content closes it (the tree
            // builder's "breakout" rule); anything else stays foreign,
            // where no element holds raw text.
            if !BREAKOUT.iter().any(|b| name.eq_ignore_ascii_case(b)) {
                if is_foreign_root && self.text[..gt].last() != Some(&b'/') {
                    self.foreign += 1;
                }
                return Some(State::Data);
            }
            self.foreign = 0;
        }
        if is_foreign_root {
            if self.text[..gt].last() != Some(&b'/') {
                self.foreign = 1;
            }
            return Some(State::Data);
        }
        if name.eq_ignore_ascii_case(b"plaintext") {
            return None;
        }
        self.raw_start = gt + 1;
        Some(
            RAW_TEXT
                .iter()
                .find(|raw| name.eq_ignore_ascii_case(raw))
                .map_or(State::Data, |&raw| State::RawText(raw)),
        )
    }

    /// The value of the current attribute ends at `end`: judges the
    /// input where the value is itself a language — a script URL, a URL
    /// that decides where script or form data comes from or goes, an
    /// event handler's JavaScript, a `srcdoc` document, a refresh target.
    #[inline]
    fn value_end(&mut self, end: usize) -> Result<(), Stop> {
        let Tag {
            name_start,
            name_end,
            attr_start,
            attr_end,
            value_start,
            ..
        } = self.tag;
        let t = self.text;
        let element = &t[name_start..name_end.max(name_start)];
        let name = &t[attr_start..attr_end.max(attr_start)];
        let value = &t[value_start..end];
        let is = |n: &[u8], expected: &[u8]| n.eq_ignore_ascii_case(expected);
        if URL_ATTRIBUTES.iter().any(|url| is(name, url)) {
            if let Some(scheme_end) = script_url(value) {
                return self.span(value_start, value_start + scheme_end, Reason::ScriptUrl);
            }
            if ORIGIN_ATTRIBUTES
                .iter()
                .any(|&(e, a)| is(name, a) && (e.is_empty() || is(element, e)))
            {
                let origin_end = origin_end(value);
                if origin_end > 0 {
                    return self.span(
                        value_start,
                        value_start + origin_end,
                        Reason::ControlsAuthority,
                    );
                }
            }
            return Ok(());
        }
        if name.len() > 2 && is(&name[..2], b"on") {
            return self.script_text(value_start, end, true);
        }
        if is(name, b"srcdoc") {
            return self.srcdoc(value_start, end);
        }
        if is(name, b"content")
            && is(element, b"meta")
            && let Some(url) = refresh_url(value)
            && let Some(scheme_end) = script_url(&value[url..])
        {
            let start = value_start + url;
            return self.span(start, start + scheme_end, Reason::ScriptUrl);
        }
        Ok(())
    }

    /// JavaScript text at `start..end` (an event handler's value, with
    /// character references decoded, or a `<script>`'s text): flags an
    /// occurrence of the input holding a character that decides the
    /// script's structure. Inside a string literal that is the closing
    /// quote, a backslash or a line break; elsewhere anything but the
    /// characters of one identifier or number, so an input stays one
    /// string's text or one token.
    fn script_text(&mut self, start: usize, end: usize, decode: bool) -> Result<(), Stop> {
        let t = &self.text[..end];
        let mut chars = Decoded {
            text: t,
            at: start,
            decode,
        };
        let mut quote: Option<u32> = None;
        loop {
            let at = chars.at;
            let Some(c) = chars.next() else {
                return Ok(());
            };
            let structural = match quote {
                Some(q) if c == q => {
                    quote = None;
                    true
                }
                Some(_) => {
                    matches!(c, 0x5c | 0x0a | 0x0d | 0x2028 | 0x2029)
                        || (quote == Some(0x60) && c == u32::from(b'$'))
                }
                None if matches!(c, 0x22 | 0x27 | 0x60) => {
                    quote = Some(c);
                    true
                }
                None => {
                    !(c >= 0x80
                        || u8::try_from(c).is_ok_and(|b| {
                            b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.'
                        }))
                }
            };
            if structural {
                self.span(at, chars.at, Reason::BreaksAttribute)?;
            }
        }
    }

    /// A `srcdoc` value at `start..end` is a whole document, parsed after
    /// its character references are decoded: flags an occurrence of the
    /// input holding a `<` (written or as a reference) that opens markup
    /// there.
    fn srcdoc(&mut self, start: usize, end: usize) -> Result<(), Stop> {
        let t = &self.text[..end];
        let mut chars = Decoded {
            text: t,
            at: start,
            decode: true,
        };
        let mut open: Option<usize> = None;
        loop {
            let at = chars.at;
            let Some(c) = chars.next() else {
                return Ok(());
            };
            if let Some(lt) = open.take() {
                let opens = u8::try_from(c)
                    .is_ok_and(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?'));
                if opens {
                    self.span(lt, at, Reason::OpensTag)?;
                }
            }
            if c == u32::from(b'<') {
                open = Some(at);
            }
        }
    }
}

/// If the attribute value `value` (as written in the page) is a URL whose
/// scheme runs script, the length of the value up to and including the
/// scheme's colon.
///
/// Browsers decode character references in attribute values, then the URL
/// parser drops leading spaces and controls, and tabs and line breaks
/// anywhere: `&#106;ava&#x09;script:` is `javascript:`.
fn script_url(value: &[u8]) -> Option<usize> {
    let mut scheme = [0u8; 10];
    let mut len = 0;
    let mut chars = Decoded {
        text: value,
        at: 0,
        decode: true,
    };
    loop {
        let c = chars.next()?;
        if matches!(c, 0x09 | 0x0a | 0x0d) || (len == 0 && c <= 0x20) {
            continue;
        }
        if c == u32::from(b':') {
            break;
        }
        let letter = u8::try_from(c).ok().filter(u8::is_ascii_alphabetic)?;
        *scheme.get_mut(len)? = letter.to_ascii_lowercase();
        len += 1;
    }
    let runs_script = match &scheme[..len] {
        b"javascript" | b"vbscript" => true,
        b"data" => data_runs_script(Decoded {
            text: value,
            at: chars.at,
            decode: true,
        }),
        _ => false,
    };
    runs_script.then_some(chars.at)
}

/// Whether a `data:` URL, read from its media type on, is a document or
/// image that can run script. Media types that browsers only display as
/// pictures, sound, video, fonts or plain text pass.
fn data_runs_script(chars: Decoded<'_>) -> bool {
    const INERT: [&[u8]; 8] = [
        b"image/png",
        b"image/gif",
        b"image/jpeg",
        b"image/webp",
        b"image/avif",
        b"audio/",
        b"video/",
        b"text/plain",
    ];
    let mut media = [0u8; 16];
    let mut len = 0;
    for c in chars {
        if matches!(c, 0x09 | 0x0a | 0x0d) || (len == 0 && c == 0x20) {
            continue;
        }
        if c == u32::from(b';') || c == u32::from(b',') {
            break;
        }
        let Ok(b) = u8::try_from(c) else {
            return true;
        };
        if len == media.len() {
            break;
        }
        media[len] = b.to_ascii_lowercase();
        len += 1;
    }
    // An empty media type is `text/plain`.
    len != 0 && !INERT.iter().any(|inert| media[..len].starts_with(inert))
}

/// Characters of an attribute value with character references decoded,
/// as code points. Bytes that are not part of a reference come out as
/// they are.
struct Decoded<'t> {
    text: &'t [u8],
    at: usize,
    /// Whether character references are decoded (attribute values) or
    /// bytes read as they are (raw text).
    decode: bool,
}

impl Iterator for Decoded<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let b = *self.text.get(self.at)?;
        self.at += 1;
        if b != b'&' || !self.decode {
            return Some(u32::from(b));
        }
        let rest = &self.text[self.at..];
        if let Some(numeric) = rest.strip_prefix(b"#") {
            let (hex, digits) = match numeric.first() {
                Some(b'x' | b'X') => (true, &numeric[1..]),
                _ => (false, numeric),
            };
            let count = digits
                .iter()
                .take_while(|d| {
                    if hex {
                        d.is_ascii_hexdigit()
                    } else {
                        d.is_ascii_digit()
                    }
                })
                .count();
            if count == 0 {
                return Some(u32::from(b'&'));
            }
            let radix = if hex { 16 } else { 10 };
            let value = digits[..count].iter().fold(0u32, |acc, &d| {
                let digit = char::from(d).to_digit(radix).unwrap_or(0);
                acc.saturating_mul(radix).saturating_add(digit)
            });
            self.at += 1 + usize::from(hex) + count;
            if self.text.get(self.at) == Some(&b';') {
                self.at += 1;
            }
            return Some(value);
        }
        // The named references that spell a scheme's separators.
        for (name, value) in [
            (&b"colon;"[..], b':'),
            (b"Tab;", b'\t'),
            (b"NewLine;", b'\n'),
            (b"lt;", b'<'),
            (b"LT;", b'<'),
            (b"lt", b'<'),
            (b"quot;", b'"'),
            (b"apos;", b'\''),
            (b"bsol;", b'\\'),
        ] {
            if rest.starts_with(name) {
                self.at += name.len();
                return Some(u32::from(value));
            }
        }
        Some(u32::from(b'&'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(html: &str, input: &str) -> Option<Reason> {
        detect(html.as_bytes(), &Finder::new(input.as_bytes())).map(|f| f.reason)
    }

    fn page(input: &str) -> String {
        format!("<div class=\"c\"><p>{input}</p><a title=\"{input}\" href=x>go</a></div>")
    }

    #[test]
    fn decodes_script_urls() {
        assert_eq!(script_url(b"javascript:alert(1)"), Some(11));
        assert_eq!(script_url(b" JaVa\tScRiPt:x"), Some(13));
        assert!(script_url(b"&#106;ava&#x73;cript&colon;x").is_some());
        assert!(script_url(b"&#0000106avascript:x").is_some());
        assert!(script_url(b"data:text/html,<script>x</script>").is_some());
        assert!(script_url(b"data:image/svg+xml;base64,AAAA").is_some());
        assert_eq!(script_url(b"data:image/png;base64,AAAA"), None);
        assert_eq!(script_url(b"data:,hello"), None);
        assert_eq!(script_url(b"https://example.com/javascript:x"), None);
        assert_eq!(script_url(b"/search?q=javascript:"), None);
        assert_eq!(script_url(b"javascript"), None);
        assert_eq!(script_url(b"&#xffffffffff;javascript:"), None);
    }

    #[test]
    fn text_markup() {
        assert_eq!(
            reason(&page("<script>x</script>"), "<script>x</script>"),
            Some(Reason::OpensTag)
        );
        assert_eq!(
            reason(&page("a <!-- b"), "a <!-- b"),
            Some(Reason::OpensComment)
        );
        let prose = "a < b, 3 <4, <3 & \"q\" >";
        assert_eq!(reason(&format!("<p>{prose}</p>"), prose), None);
        // The same quotes end the attribute value they are placed in.
        assert_eq!(reason(&page(prose), prose), Some(Reason::BreaksAttribute));
    }

    #[test]
    fn attribute_markup() {
        let html = "<a title=\"x\" onmouseover=\"alert(1)\" href=x>go</a>";
        assert_eq!(
            reason(html, "x\" onmouseover=\"alert(1)"),
            Some(Reason::BreaksAttribute)
        );
        let html = "<img src=a onerror=alert(1)>";
        assert_eq!(
            reason(html, "a onerror=alert(1)"),
            Some(Reason::BreaksAttribute)
        );
        assert_eq!(
            reason("<a href=\"javascript:alert(1)\">", "javascript:alert(1)"),
            Some(Reason::ScriptUrl)
        );
        assert_eq!(
            reason("<a href=\"/u/javascript:alert(1)\">", "javascript:alert(1)"),
            None
        );
    }

    #[test]
    fn foreign_content_holds_markup_in_style_and_title() {
        let attack = "<img src=x onerror=alert(1)>";
        for template in [
            "<svg><style>{}</style></svg>",
            "<svg><title>{}</title></svg>",
            "<math><style>{}</style></math>",
            "<svg><g><style>{}</style></g></svg>",
        ] {
            let html = template.replace("{}", attack);
            assert_eq!(reason(&html, attack), Some(Reason::OpensTag), "{html}");
        }
        // Closed foreign content, or an HTML breakout, is HTML again.
        let html = format!("<svg></svg><style>{attack}</style>");
        assert_eq!(reason(&html, attack), None);
        let html = format!("<svg><p></p><style>{attack}</style>");
        assert_eq!(reason(&html, attack), None);
        let html = format!("<svg/><style>{attack}</style>");
        assert_eq!(reason(&html, attack), None);
    }

    #[test]
    fn urls_that_decide_where_script_or_forms_go() {
        for (html, input) in [
            (
                "<script src=\"https://evil.example/x.js\"></script>",
                "https://evil.example/x.js",
            ),
            (
                "<script src=\"//evil.example/x.js\"></script>",
                "//evil.example/x.js",
            ),
            (
                "<script src=\"https://evil.example/x.js\"></script>",
                "evil.example",
            ),
            (
                "<base href=\"https://evil.example/\">",
                "https://evil.example/",
            ),
            (
                "<form action=\"https://evil.example/c\">",
                "https://evil.example/c",
            ),
            ("<button formaction=\"//evil.example\">", "//evil.example"),
        ] {
            assert_eq!(
                reason(html, input),
                Some(Reason::ControlsAuthority),
                "{html}"
            );
        }
        for (html, input) in [
            ("<script src=\"/static/app.js\"></script>", "app.js"),
            (
                "<script src=\"https://cdn.example/lib/x.js\"></script>",
                "x.js",
            ),
            (
                "<a href=\"https://example.org/\">x</a>",
                "https://example.org/",
            ),
            ("<form action=\"/search\">", "/search"),
        ] {
            assert_eq!(reason(html, input), None, "{html}");
        }
    }

    #[test]
    fn script_contexts_keep_an_input_one_string_or_token() {
        let html = "<button onclick=\"track('x');alert(1);('')\">";
        assert_eq!(
            reason(html, "x');alert(1);('"),
            Some(Reason::BreaksAttribute)
        );
        let html = "<button onclick=\"track('x&#39;);alert(1);//')\">";
        assert_eq!(
            reason(html, "x&#39;);alert(1);//"),
            Some(Reason::BreaksAttribute)
        );
        let html = "<script>var q = \"a\";alert(1);//\";</script>";
        assert_eq!(
            reason(html, "a\";alert(1);//"),
            Some(Reason::BreaksAttribute)
        );
        for (html, input) in [
            (
                "<button onclick=\"track('summer sale, 50% off')\">",
                "summer sale, 50% off",
            ),
            ("<button onclick=\"go(42)\">", "42"),
            (
                "<script>var q = \"caf\u{e9} <b>\";</script>",
                "caf\u{e9} <b>",
            ),
        ] {
            assert_eq!(reason(html, input), None, "{html}");
        }
    }

    #[test]
    fn srcdoc_and_refresh_are_documents_and_urls() {
        let input = "&lt;script&gt;alert(1)&lt;/script&gt;";
        let html = format!("<iframe srcdoc=\"{input}\"></iframe>");
        assert_eq!(reason(&html, input), Some(Reason::OpensTag));
        let input = "a &lt; b";
        let html = format!("<iframe srcdoc=\"{input}\"></iframe>");
        assert_eq!(reason(&html, input), None);
        let html = "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">";
        assert_eq!(reason(html, "javascript:alert(1)"), Some(Reason::ScriptUrl));
        let html = "<meta http-equiv=\"refresh\" content=\"0;url=/next\">";
        assert_eq!(reason(html, "/next"), None);
    }

    #[test]
    fn coincidence_with_the_template_passes() {
        let html = "<div title=\"t\"><p>title</p></div>";
        assert_eq!(reason(html, "title"), None);
        assert_eq!(reason("<textarea>area</textarea>", "area"), None);
        assert_eq!(reason("<p>div</p>", "div"), None);
    }
}

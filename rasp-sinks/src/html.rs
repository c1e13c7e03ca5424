//! The raw-HTML guard: `rasp::html::raw(text)` checks HTML built by hand
//! before it is sent, and `rasp::html::rich(value)` (feature `ammonia`)
//! cleans rich HTML written by users.
//!
//! Templates escape what they interpolate; HTML assembled with `format!`
//! does not, and neither does a template value marked safe. An input that
//! opens a tag (`<script>`, `<img onerror=…>`), leaves the attribute value
//! it was placed in (`" onmouseover="…`), or sets the scheme of a link to
//! `javascript:` runs script in every browser that loads the page. [`raw`]
//! looks for every input recorded in the current request context inside
//! the HTML and asks the HTML detector whether one of them changes the
//! markup; a detection is reported on the `rasp::security` target and,
//! in `Block` mode, refused:
//!
//! ```text
//! let row = rasp::html::raw(format!("<td title=\"{title}\">{count}</td>"))?;
//! ```
//!
//! Escape the values first (`value.escaped::<rasp::Html>()` or
//! `.sanitize::<rasp::Html>()`) and the check passes: an escaped value
//! carries no markup. With the `askama` feature a [`RawHtml`] renders in a
//! template as it is, since it was checked.
//!
//! [`raw`] is a registered sink of class `html` (`html.raw`), so policies
//! and events name it and `rasp::registry::sinks()` lists it.

use std::fmt;

use rasp_core::Blocked;
use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};

static RAW: SinkSite = SinkSite::new(
    "html.raw",
    SinkClass::Html,
    "rasp::html::raw",
    file!(),
    line!(),
    &["text"],
    Guard::RuntimeChecked,
);
inventory::submit! { SinkRegistration(&RAW) }

/// HTML that passed the HTML check; displays as the markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHtml(String);

impl RawHtml {
    /// The markup.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The markup, as an owned string.
    #[inline]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RawHtml {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checked markup: askama renders it without escaping it.
#[cfg(feature = "askama")]
impl askama::filters::HtmlSafe for RawHtml {}

/// Checks HTML built at run time: refuses it if a recorded input opens or
/// closes a tag or comment, breaks out of an attribute, or puts a script
/// URL in a link.
///
/// Outside a request context the markup passes unchecked.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
///
/// static COMMENT: SourceMeta = SourceMeta { kind: "http.form", ..SourceMeta::MANUAL };
/// let render = |comment: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&COMMENT, comment.as_bytes());
///     ctx.scope(|| rasp_sinks::html::raw(format!("<p class=\"c\">{comment}</p>")))
/// };
///
/// assert!(render("if a < b && c > d, say \"hi\"").is_ok());
/// assert!(render("<img src=x onerror=alert(1)>").is_err());
/// ```
#[inline]
pub fn raw(text: impl HtmlText) -> Result<RawHtml, Blocked> {
    let text = text.__into_markup(&RAW);
    check(&RAW, text.as_bytes())?;
    Ok(RawHtml(text))
}

/// Cleans rich HTML from a user (a comment or profile written in an
/// editor) with `ammonia`: formatting stays, scripts, event handlers and
/// `javascript:` links go. The result is trusted by HTML sinks and
/// renders unescaped in askama templates.
///
/// ```
/// use rasp_core::{SourceMeta, Tainted};
/// let bio = Tainted::new("<i>hi</i><script>steal()</script>", &SourceMeta::MANUAL);
/// assert_eq!(rasp_sinks::html::rich(&bio).to_string(), "<i>hi</i>");
/// ```
#[cfg(feature = "ammonia")]
#[inline]
pub fn rich<T: AsRef<str>>(
    value: &rasp_core::Tainted<T>,
) -> rasp_core::Sanitized<String, rasp_core::Html> {
    value.clean_html()
}

/// The markup [`raw`] takes: the text the application built, as `String`,
/// `&str`, `&String`, `Box<str>` or `Cow<str>` (an owned `String` is kept,
/// not copied), or markup built from inputs and kept `Tainted<String>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not markup that `rasp::html::raw` can check",
    label = "not markup",
    note = "the guard takes the text the application built, or a `rasp::Tainted<String>`, and checks it against the inputs the request recorded",
    note = "a `rasp::Tainted` value goes into markup escaped: `rasp::compose!(rasp::Html, \"<p>{{}}</p>\", bio.escaped::<rasp::Html>())`; rich HTML from users goes through `rasp::html::rich`"
)]
pub trait HtmlText {
    /// The markup, owned, for the guard at `site` (which reads tainted
    /// markup through it). Not for applications.
    #[doc(hidden)]
    fn __into_markup(self, site: &'static SinkSite) -> String;
}

impl HtmlText for String {
    fn __into_markup(self, _: &'static SinkSite) -> String {
        self
    }
}

impl HtmlText for &str {
    fn __into_markup(self, _: &'static SinkSite) -> String {
        self.to_owned()
    }
}

impl HtmlText for &String {
    fn __into_markup(self, _: &'static SinkSite) -> String {
        self.clone()
    }
}

impl HtmlText for Box<str> {
    fn __into_markup(self, _: &'static SinkSite) -> String {
        self.into_string()
    }
}

impl HtmlText for std::borrow::Cow<'_, str> {
    fn __into_markup(self, _: &'static SinkSite) -> String {
        self.into_owned()
    }
}

/// Markup composed with `rasp::compose!` from values escaped for HTML.
impl HtmlText for rasp_core::Composed<rasp_core::Html> {
    fn __into_markup(self, site: &'static SinkSite) -> String {
        rasp_core::__private_v1::take_composed_at(self, site)
    }
}

/// Markup built from an input and kept tainted (`Tainted::map`): the
/// guard unwraps it at its registered site and checks it.
impl HtmlText for rasp_core::Tainted<String> {
    fn __into_markup(self, site: &'static SinkSite) -> String {
        rasp_core::__private_v1::take_at(self, site)
    }
}

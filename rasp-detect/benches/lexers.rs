//! rasp's hand-written lexers against the full parsers and tokenizers the
//! oracles use, on the same realistic sink texts: what lexing by hand saves
//! on the hot path.
//!
//! Per text, one criterion group:
//!
//! - `rasp_lexer`: rasp's lexer cutting the whole text into tokens. The SQL
//!   lexer is the crate's (`rasp_detect::sql::lexer`). The shell lexer is
//!   private to the crate, so this file compiles its source file as a
//!   module of its own. The HTML lexer runs only inside the detector, so
//!   its row (`rasp_lexer_full_pass`) is the detector with an input that
//!   occurs only in the last text node, which makes it lex the whole
//!   fragment.
//! - `rasp_lexer_finish` (SQL): the same lexer run to the end with
//!   `Lexer::finish`, which skips stretches of code that cannot open a
//!   literal or comment instead of cutting them token by token, as the
//!   detector does.
//! - `rasp_detect`: the detector with a benign input present in the text,
//!   the real cost of one sink check that finds the input.
//! - the reference: `sqlparser`'s tokenizer and parser (PostgreSQL dialect
//!   on both sides), `shlex::split`, html5ever's tokenizer (a sink that
//!   drops every token) and `scraper::Html::parse_fragment` (html5ever's
//!   tokenizer and tree builder).
//!
//! `cargo bench -p rasp-detect --bench lexers -- --warm-up-time 1 --measurement-time 3`.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token as HtmlToken, TokenSink, TokenSinkResult, Tokenizer as HtmlTokenizer,
    TokenizerOpts,
};
use memchr::memmem::Finder;
use rasp_detect::sql::Dialect;
use rasp_detect::sql::lexer::Lexer as SqlLexer;
use rasp_detect::{html, shell, sql};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Tokenizer as SqlTokenizer;

/// The shell lexer, compiled from the crate's source file: the crate keeps
/// it private. Items the detector uses and this file does not are dead here.
#[allow(dead_code)]
#[path = "../src/shell/lexer.rs"]
mod shell_lexer;

/// A string-built lookup: one WHERE clause, two string literals (142 bytes).
const SQL_SHORT: &str = "SELECT id, name, email, created_at FROM users \
WHERE email = 'alice.martin@example.com' AND status = 'active' \
ORDER BY created_at DESC LIMIT 20";
const SQL_SHORT_INPUT: &str = "alice.martin@example.com";

/// A report query with a CTE, joins, `CASE`, a `LIKE` search term, an `IN`
/// list, three comments and 21 string literals (1 810 bytes).
const SQL_LONG: &str = "-- weekly sales report, search page
WITH recent_orders AS (
    SELECT o.id, o.customer_id, o.created_at, o.status, o.total_cents, o.currency
    FROM orders o
    WHERE o.created_at >= '2024-10-01 00:00:00' AND o.created_at < '2024-11-01 00:00:00'
      AND o.status IN ('paid', 'shipped', 'delivered', 'refunded')
),
matching_products AS (
    SELECT p.id, p.sku, p.name, p.category_id, p.price_cents
    FROM products p
    WHERE (p.name ILIKE '%running shoes%' OR p.description ILIKE '%running shoes%')
      AND p.archived = false
      AND p.category_id IN (12, 14, 15, 31, 32, 47)
)
SELECT
    c.id AS customer_id,
    c.display_name,
    c.email,
    mp.sku,
    mp.name AS product_name,
    COUNT(DISTINCT ro.id) AS orders,
    SUM(oi.quantity) AS units,
    SUM(oi.quantity * oi.unit_price_cents) AS revenue_cents,
    MAX(ro.created_at) AS last_order_at,
    CASE
        WHEN SUM(oi.quantity * oi.unit_price_cents) >= 100000 THEN 'gold'
        WHEN SUM(oi.quantity * oi.unit_price_cents) >= 25000 THEN 'silver'
        ELSE 'standard'
    END AS tier,
    /* refunds are counted separately: finance reads them from the ledger */
    SUM(CASE WHEN ro.status = 'refunded' THEN oi.quantity ELSE 0 END) AS refunded_units
FROM recent_orders ro
JOIN customers c ON c.id = ro.customer_id
JOIN order_items oi ON oi.order_id = ro.id
JOIN matching_products mp ON mp.id = oi.product_id
LEFT JOIN customer_flags cf ON cf.customer_id = c.id AND cf.flag = 'fraud_review'
WHERE cf.customer_id IS NULL
  AND c.country_code IN ('DE', 'AT', 'CH', 'FR', 'NL', 'BE')
  AND c.email NOT LIKE '%@example.invalid'
  AND ro.currency = 'EUR'
GROUP BY c.id, c.display_name, c.email, mp.sku, mp.name
HAVING SUM(oi.quantity) > 0
ORDER BY revenue_cents DESC, last_order_at DESC, c.id ASC
LIMIT 100 OFFSET 200;
-- end of report
";
const SQL_LONG_INPUT: &str = "running shoes";

/// A transcoding job built from an uploaded file name, quoted by the
/// application, with a redirection (218 bytes).
const SHELL: &str = "ffmpeg -hide_banner -loglevel error -i '/srv/uploads/2024/clip 01.mov' \
-vf \"scale=1280:-2,fps=30\" -c:v libx264 -preset veryfast -crf 23 -movflags +faststart \
-y '/var/cache/media/clip 01.mp4' 2>>/var/log/shop/ffmpeg.log";
const SHELL_INPUT: &str = "clip 01.mov";

/// A rendered product review: attributes, a link, an image, character
/// references, a form (1 262 bytes).
const HTML: &str = r#"<article class="review" id="review-8812" data-rating="4">
  <header class="review__header">
    <img class="avatar" src="/static/avatars/8812.webp" alt="" width="40" height="40" loading="lazy">
    <h3 class="review__author"><a href="/users/amartin" rel="nofollow">Alice Martin</a></h3>
    <time datetime="2024-11-02T14:31:00Z">2 Nov 2024</time>
    <span class="stars" aria-label="4 out of 5 stars">&#9733;&#9733;&#9733;&#9733;&#9734;</span>
  </header>
  <h4 class="review__title">Comfortable from the first run</h4>
  <div class="review__body">
    <p>I bought these for a half marathon &amp; they held up well on wet asphalt. Sizing runs a little small, so order half a size up.</p>
    <p>After 300 km the sole shows some wear on the outer heel but no cracks.</p>
  </div>
  <ul class="review__facts">
    <li><span>Size bought:</span> 42.5 EU</li>
    <li><span>Usual size:</span> 42 EU</li>
    <li><span>Use:</span> road running</li>
  </ul>
  <footer class="review__footer">
    <form method="post" action="/reviews/8812/helpful"><input type="hidden" name="csrf" value="k2Jx9QpL0vT7"><button type="submit" class="link">Helpful (12)</button></form>
    <a class="review__report" href="/reviews/8812/report">Report this review</a>
  </footer>
</article>
"#;
/// The user's review title, in the middle of the fragment.
const HTML_INPUT: &str = "Comfortable from the first run";
/// Text that occurs only in the fragment's last text node.
const HTML_LAST_TEXT: &str = "Report this review";

fn sql_group(c: &mut Criterion, name: &str, text: &str, input: &str) {
    let pg = PostgreSqlDialect {};
    let finder = Finder::new(input.as_bytes());
    // The texts are valid statements in which the input is benign: every
    // side does its full work and none bails out early.
    assert!(SqlTokenizer::new(&pg, text).tokenize().is_ok());
    assert!(Parser::parse_sql(&pg, text).is_ok());
    assert!(SqlLexer::new(Dialect::Postgres, text.as_bytes()).all(|t| t.terminated));
    assert_eq!(
        sql::detect(Dialect::Postgres, text.as_bytes(), &finder),
        None
    );

    let mut group = c.benchmark_group(name);
    group.bench_function("rasp_lexer", |b| {
        b.iter(|| {
            SqlLexer::new(Dialect::Postgres, black_box(text.as_bytes()))
                .fold(0usize, |acc, t| acc ^ t.end)
        });
    });
    group.bench_function("rasp_lexer_finish", |b| {
        b.iter(|| SqlLexer::new(Dialect::Postgres, black_box(text.as_bytes())).finish());
    });
    group.bench_function("rasp_detect", |b| {
        b.iter(|| sql::detect(Dialect::Postgres, black_box(text.as_bytes()), &finder));
    });
    group.bench_function("sqlparser_tokenizer", |b| {
        b.iter(|| SqlTokenizer::new(&pg, black_box(text)).tokenize());
    });
    group.bench_function("sqlparser_parse", |b| {
        b.iter(|| Parser::parse_sql(&pg, black_box(text)));
    });
    group.finish();
}

fn sql_lexers(c: &mut Criterion) {
    sql_group(c, "sql_short", SQL_SHORT, SQL_SHORT_INPUT);
    sql_group(c, "sql_long", SQL_LONG, SQL_LONG_INPUT);
}

fn shell_lexers(c: &mut Criterion) {
    let finder = Finder::new(SHELL_INPUT.as_bytes());
    assert!(shlex::split(SHELL).is_some());
    assert_eq!(shell::detect(SHELL.as_bytes(), &finder), None);

    let mut group = c.benchmark_group("shell");
    group.bench_function("rasp_lexer", |b| {
        b.iter(|| {
            shell_lexer::Lexer::new(black_box(SHELL.as_bytes())).fold(0usize, |acc, a| acc ^ a.end)
        });
    });
    group.bench_function("rasp_detect", |b| {
        b.iter(|| shell::detect(black_box(SHELL.as_bytes()), &finder));
    });
    group.bench_function("shlex_split", |b| {
        b.iter(|| shlex::split(black_box(SHELL)));
    });
    group.finish();
}

/// A token sink that counts tokens and drops them.
#[derive(Default)]
struct CountingSink(Cell<usize>);

impl TokenSink for CountingSink {
    type Handle = ();

    fn process_token(&self, token: HtmlToken, _line: u64) -> TokenSinkResult<()> {
        drop(token);
        self.0.set(self.0.get() + 1);
        TokenSinkResult::Continue
    }
}

fn html5ever_tokens(text: &str) -> usize {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(text));
    let tokenizer = HtmlTokenizer::new(CountingSink::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.get()
}

fn html_lexers(c: &mut Criterion) {
    let input = Finder::new(HTML_INPUT.as_bytes());
    let last = Finder::new(HTML_LAST_TEXT.as_bytes());
    assert_eq!(
        memchr::memmem::find_iter(HTML.as_bytes(), HTML_LAST_TEXT).count(),
        1
    );
    assert!(HTML.len() - HTML.find(HTML_LAST_TEXT).unwrap() < 64);
    assert_eq!(html::detect(HTML.as_bytes(), &input), None);
    assert_eq!(html::detect(HTML.as_bytes(), &last), None);
    assert!(html5ever_tokens(HTML) > 50);

    let mut group = c.benchmark_group("html");
    group.bench_function("rasp_lexer_full_pass", |b| {
        b.iter(|| html::detect(black_box(HTML.as_bytes()), &last));
    });
    group.bench_function("rasp_detect", |b| {
        b.iter(|| html::detect(black_box(HTML.as_bytes()), &input));
    });
    group.bench_function("html5ever_tokenizer", |b| {
        b.iter(|| html5ever_tokens(black_box(HTML)));
    });
    group.bench_function("scraper_parse_fragment", |b| {
        b.iter(|| scraper::Html::parse_fragment(black_box(HTML)));
    });
    group.finish();
}

criterion_group!(benches, sql_lexers, shell_lexers, html_lexers);
criterion_main!(benches);

//! `cargo xtask eval`: the detectors' accuracy and latency on a labelled corpus.
//!
//! Each corpus line is one case: a sink text (`template`) with an untrusted
//! `input` already placed in it, and whether that input is an `attack`. The
//! case's detector sees exactly what the runtime check would: the sink text,
//! and a substring searcher built for the recorded input. Only the detector
//! call is timed; reading the corpus and building the searcher are not (the
//! runtime builds the searcher once, when the input is recorded).
//!
//! With `--mode span` each case is judged as a span-exact macro would
//! judge it: the detector sees the argument's bytes at their one place in
//! the text (the case's `span`, or else the input's only occurrence), and
//! nothing of the template. A case without either is judged verbatim, and
//! counted as such.

use std::fmt::Write as _;
use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use lexopt::Arg::Long;
use lexopt::Parser;
use memchr::memmem::Finder;
use rasp_core::check::min_input_len;
use rasp_core::detect::span::Span;
use rasp_core::detect::{Needle, detect, header};
use rasp_core::{Dialect, SinkClass};
use serde::Deserialize;

use crate::args;

/// Sink classes of the corpus, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Sqli,
    Shell,
    Path,
    Ssrf,
    Redirect,
    Header,
    Log,
    Xss,
}

impl Class {
    pub(crate) const ALL: [Class; 8] = [
        Class::Sqli,
        Class::Shell,
        Class::Path,
        Class::Ssrf,
        Class::Redirect,
        Class::Header,
        Class::Log,
        Class::Xss,
    ];

    /// The accepted names, for error messages.
    const NAMES: &'static str = "sqli, shell, path, ssrf, redirect, header, log or xss";

    pub(crate) fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Class::Sqli => "sqli",
            Class::Shell => "shell",
            Class::Path => "path",
            Class::Ssrf => "ssrf",
            Class::Redirect => "redirect",
            Class::Header => "header",
            Class::Log => "log",
            Class::Xss => "xss",
        }
    }
}

/// What `eval` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    corpus: String,
    class: Option<Class>,
    results: Option<String>,
    misses: usize,
    reps: u32,
    min_recall: Option<f64>,
    max_fpr: Option<f64>,
    mode: Mode,
}

/// How a case's input is found in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Searched for, every occurrence judged: the runtime check of text
    /// built elsewhere.
    Verbatim,
    /// Known: the bytes one argument wrote, as `rasp::sql!` records them.
    Span,
}

impl Options {
    /// Parses the arguments after `eval`.
    pub(crate) fn parse(parser: &mut Parser) -> Result<Options, String> {
        let mut options = Options {
            corpus: String::new(),
            class: None,
            results: None,
            misses: 0,
            reps: 64,
            min_recall: None,
            max_fpr: None,
            mode: Mode::Verbatim,
        };
        while let Some(arg) = args::next(parser)? {
            match arg {
                Long("corpus") => options.corpus = args::value(parser, "--corpus")?,
                Long("results") => options.results = Some(args::value(parser, "--results")?),
                Long("class") => {
                    let name = args::value(parser, "--class")?;
                    options.class = Some(Class::parse(&name).ok_or_else(|| {
                        format!("unknown class `{name}` (expected {})", Class::NAMES)
                    })?);
                }
                Long("misses") => options.misses = number(parser, "--misses")?,
                Long("reps") => options.reps = number::<u32>(parser, "--reps")?.max(1),
                Long("min-recall") => options.min_recall = Some(ratio(parser, "--min-recall")?),
                Long("max-fpr") => options.max_fpr = Some(ratio(parser, "--max-fpr")?),
                Long("mode") => {
                    options.mode = match args::value(parser, "--mode")?.as_str() {
                        "verbatim" => Mode::Verbatim,
                        "span" => Mode::Span,
                        other => {
                            return Err(format!(
                                "unknown mode `{other}` (expected verbatim or span)"
                            ));
                        }
                    }
                }
                other => {
                    return Err(format!(
                        "unknown option `{}` for `eval`",
                        args::shown(&other)
                    ));
                }
            }
        }
        if options.corpus.is_empty() {
            return Err("`eval` needs `--corpus FILE`".into());
        }
        Ok(options)
    }
}

fn number<T: std::str::FromStr>(parser: &mut Parser, flag: &str) -> Result<T, String> {
    let text = args::value(parser, flag)?;
    text.parse()
        .map_err(|_| format!("`{flag}` expects a whole number, got `{text}`"))
}

fn ratio(parser: &mut Parser, flag: &str) -> Result<f64, String> {
    let text = args::value(parser, flag)?;
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "`{flag}` expects a number between 0 and 1, got `{text}`"
        )),
    }
}

/// One corpus line.
#[derive(Debug, Deserialize)]
pub(crate) struct Case {
    pub(crate) id: String,
    pub(crate) class: String,
    #[serde(default)]
    pub(crate) dialect: Option<String>,
    pub(crate) template: String,
    pub(crate) input: String,
    attack: bool,
    /// Free-form notes; `set-cookie` selects the cookie rule of the
    /// header detector, as `rasp::header::set_cookie` does.
    #[serde(default)]
    tags: Vec<String>,
    /// The byte range the argument wrote in `template`, for cases whose
    /// input was transformed before it was spliced, or also occurs in the
    /// template's own text. Span mode judges exactly these bytes.
    #[serde(default)]
    span: Option<[usize; 2]>,
}

/// A case after its detector ran.
struct Outcome {
    case: Case,
    verdict: bool,
    /// What the detector said, for `--misses`.
    detail: String,
    /// Median time of one detector call.
    ns: f64,
    /// Whether span mode found the argument's span (else: judged verbatim).
    spanned: bool,
}

/// Tallies of one class.
#[derive(Default)]
struct Tally {
    tp: usize,
    fn_: usize,
    fp: usize,
    tn: usize,
    ns: Vec<f64>,
}

impl Tally {
    fn recall(&self) -> f64 {
        ratio_of(self.tp, self.tp + self.fn_)
    }
    fn fpr(&self) -> f64 {
        ratio_of(self.fp, self.fp + self.tn)
    }
    fn precision(&self) -> f64 {
        ratio_of(self.tp, self.tp + self.fp)
    }
}

fn ratio_of(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// Runs `eval`; `Ok(false)` when a threshold was missed.
pub(crate) fn run(options: &Options) -> Result<bool, String> {
    let cases = read_corpus(&options.corpus)?;
    let mut outcomes = Vec::with_capacity(cases.len());
    for (line, case) in cases {
        let class = Class::parse(&case.class).ok_or_else(|| {
            format!(
                "{}:{line}: unknown class `{}` (expected {})",
                options.corpus,
                case.class,
                Class::NAMES
            )
        })?;
        if options.class.is_some_and(|only| only != class) {
            continue;
        }
        let outcome = evaluate(class, case, options, line)?;
        outcomes.push((class, outcome));
    }
    if let Some(path) = &options.results {
        write_results(path, &outcomes)?;
    }
    let tallies = tally(&outcomes);
    if options.mode == Mode::Span {
        let spanned = outcomes.iter().filter(|(_, o)| o.spanned).count();
        println!(
            "mode: span ({spanned} of {} cases judged by their span; the rest verbatim)",
            outcomes.len()
        );
    }
    print_table(&tallies);
    if cfg!(debug_assertions) {
        println!(
            "note: timings of an unoptimized build; \
             `cargo run --release -p xtask -- eval …` measures what ships"
        );
    }
    if options.misses > 0 {
        print_misses(&outcomes, options.misses);
    }
    Ok(check_thresholds(&tallies, options))
}

/// Reads every line of the corpus, reporting the first malformed one.
pub(crate) fn read_corpus(path: &str) -> Result<Vec<(usize, Case)>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open corpus `{path}`: {e}"))?;
    let mut cases = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| format!("{path}:{number}: cannot read: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case =
            serde_json::from_str(&line).map_err(|e| format!("{path}:{number}: {e}"))?;
        cases.push((number, case));
    }
    if cases.is_empty() {
        return Err(format!("corpus `{path}` holds no cases"));
    }
    Ok(cases)
}

/// Runs the detector of the case's class on it.
fn evaluate(class: Class, case: Case, options: &Options, line: usize) -> Result<Outcome, String> {
    let corpus = &options.corpus;
    let finder = Finder::new(case.input.as_bytes());
    let text = case.template.as_bytes();
    let span = match options.mode {
        Mode::Verbatim => None,
        Mode::Span => match case.span {
            Some([start, end]) => Some(Span::new(text, start, end).ok_or_else(|| {
                format!("{corpus}:{line}: span {start}..{end} is empty or outside the template")
            })?),
            None => only_occurrence(text, &finder)
                .and_then(|at| Span::new(text, at, at + case.input.len())),
        },
    };
    let kind = match class {
        Class::Sqli => SinkClass::Sql,
        Class::Shell => SinkClass::Shell,
        Class::Path => SinkClass::Path,
        Class::Ssrf => SinkClass::Url,
        Class::Redirect => SinkClass::Redirect,
        Class::Header => SinkClass::Header,
        Class::Log => SinkClass::Log,
        Class::Xss => SinkClass::Html,
    };
    let name = case.dialect.as_deref().unwrap_or("generic");
    let dialect = Dialect::from_name(name)
        .ok_or_else(|| format!("{corpus}:{line}: unknown SQL dialect `{name}`"))?;
    let cookie = class == Class::Header && case.tags.iter().any(|t| t == "set-cookie");
    // Inputs the runtime check does not look for are not detections here
    // either: the evaluator scores what a guarded sink would do.
    // A known span is judged whatever its length: no coincidence to fear.
    let min_len = min_input_len(kind);
    let checked = span.is_some() || case.input.len() >= min_len;
    let needle: &dyn Needle = match &span {
        Some(span) => span,
        None => &finder,
    };
    let run = || {
        if !checked {
            None
        } else if cookie {
            header::detect_cookie(text, needle).map(|f| (f.offset, f.reason))
        } else {
            detect(kind, dialect, text, needle).map(|f| (f.offset, f.reason))
        }
    };
    let ns = median_ns(options.reps, || {
        black_box(run());
    });
    let found = run();
    let detail = match found {
        Some((offset, reason)) => format!("{} at byte {offset}", reason.as_str()),
        None if !checked => format!("shorter than {min_len} bytes: not checked at run time"),
        None => String::new(),
    };
    let verdict = found.is_some();
    let spanned = span.is_some();
    Ok(Outcome {
        case,
        verdict,
        detail,
        ns,
        spanned,
    })
}

/// Where the input occurs in `text`, if it occurs exactly once: then that
/// occurrence is the argument's span.
fn only_occurrence(text: &[u8], finder: &Finder<'_>) -> Option<usize> {
    let first = finder.find(text)?;
    let again = finder.find(text.get(first + 1..)?).is_some();
    (!again).then_some(first)
}

/// Median time of one call of `f`, over batches of calls: one clock read
/// per batch keeps the clock's own cost out of nanosecond-scale timings.
fn median_ns(reps: u32, mut f: impl FnMut()) -> f64 {
    const BATCHES: usize = 8;
    let per_batch = reps.div_ceil(BATCHES as u32).max(1);
    let mut samples = [0f64; BATCHES];
    for sample in &mut samples {
        let start = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        *sample = start.elapsed().as_nanos() as f64 / f64::from(per_batch);
    }
    samples.sort_by(f64::total_cmp);
    samples[BATCHES / 2]
}

fn tally(outcomes: &[(Class, Outcome)]) -> Vec<(Class, Tally)> {
    let mut tallies: Vec<(Class, Tally)> = Class::ALL
        .into_iter()
        .map(|c| (c, Tally::default()))
        .collect();
    for (class, outcome) in outcomes {
        let t = &mut tallies[*class as usize].1;
        match (outcome.case.attack, outcome.verdict) {
            (true, true) => t.tp += 1,
            (true, false) => t.fn_ += 1,
            (false, true) => t.fp += 1,
            (false, false) => t.tn += 1,
        }
        t.ns.push(outcome.ns);
    }
    tallies.retain(|(_, t)| !t.ns.is_empty());
    for (_, t) in &mut tallies {
        t.ns.sort_by(f64::total_cmp);
    }
    tallies
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[index]
}

fn print_table(tallies: &[(Class, Tally)]) {
    println!(
        "{:6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9} {:>9} {:>9}",
        "class", "TP", "FN", "FP", "TN", "recall", "FPR", "precision", "median_ns", "p99_ns"
    );
    for (class, t) in tallies {
        println!(
            "{:6} {:>6} {:>6} {:>6} {:>6} {:>7.4} {:>7.4} {:>9.4} {:>9.0} {:>9.0}",
            class.name(),
            t.tp,
            t.fn_,
            t.fp,
            t.tn,
            t.recall(),
            t.fpr(),
            t.precision(),
            quantile(&t.ns, 0.5),
            quantile(&t.ns, 0.99),
        );
    }
}

fn print_misses(outcomes: &[(Class, Outcome)], limit: usize) {
    for class in Class::ALL {
        for (label, attack) in [("false negatives", true), ("false positives", false)] {
            let misses: Vec<&Outcome> = outcomes
                .iter()
                .filter(|(c, o)| *c == class && o.case.attack == attack && o.verdict != attack)
                .map(|(_, o)| o)
                .collect();
            if misses.is_empty() {
                continue;
            }
            println!(
                "\n{} {label} ({} of {}):",
                class.name(),
                misses.len().min(limit),
                misses.len()
            );
            for o in misses.iter().take(limit) {
                let mut line = format!("  {}", o.case.id);
                if let Some(d) = &o.case.dialect {
                    let _ = write!(line, " [{d}]");
                }
                if !o.detail.is_empty() {
                    let _ = write!(line, " {}", o.detail);
                }
                println!("{line}");
                println!("    input:    {:?}", o.case.input);
                println!("    template: {:?}", o.case.template);
            }
        }
    }
}

fn write_results(path: &str, outcomes: &[(Class, Outcome)]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write results `{path}`: {e}");
    let mut out = BufWriter::new(File::create(path).map_err(fail)?);
    for (class, o) in outcomes {
        let line = serde_json::json!({
            "id": o.case.id,
            "class": class.name(),
            "attack": o.case.attack,
            "verdict": o.verdict,
            "us": o.ns / 1000.0,
        });
        writeln!(out, "{line}").map_err(fail)?;
    }
    out.flush().map_err(fail)
}

/// Prints every threshold an evaluated class misses; true when none does.
fn check_thresholds(tallies: &[(Class, Tally)], options: &Options) -> bool {
    let mut ok = true;
    for (class, t) in tallies {
        if let Some(min) = options.min_recall
            && t.tp + t.fn_ > 0
            && t.recall() < min
        {
            println!(
                "FAIL {}: recall {:.4} is below {min}",
                class.name(),
                t.recall()
            );
            ok = false;
        }
        if let Some(max) = options.max_fpr
            && t.fp + t.tn > 0
            && t.fpr() > max
        {
            println!(
                "FAIL {}: false-positive rate {:.4} is above {max}",
                class.name(),
                t.fpr()
            );
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&mut Parser::from_args(args))
    }

    #[test]
    fn options_are_checked() {
        let o = parse(&[
            "--corpus",
            "c.jsonl",
            "--class",
            "sqli",
            "--max-fpr",
            "0.005",
        ])
        .unwrap();
        assert_eq!(
            (o.corpus.as_str(), o.class, o.max_fpr),
            ("c.jsonl", Some(Class::Sqli), Some(0.005))
        );
        assert!(parse(&[]).unwrap_err().contains("--corpus"));
        assert!(parse(&["--corpus"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--corpus", "c", "--class", "nosql"])
                .unwrap_err()
                .contains("unknown class")
        );
        assert!(
            parse(&["--corpus", "c", "--min-recall", "2"])
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            parse(&["--corpus", "c", "--misses", "x"])
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(
            parse(&["--corpus", "c", "--fast"]).unwrap_err(),
            "unknown option `--fast` for `eval`"
        );
        assert_eq!(
            parse(&["--corpus", "c", "--reps"]).unwrap_err(),
            "`--reps` needs a value"
        );
    }

    #[test]
    fn options_take_attached_values_and_keep_their_defaults() {
        let o = parse(&["--corpus=c.jsonl", "--misses=3", "--reps", "0"]).unwrap();
        assert_eq!((o.corpus.as_str(), o.misses, o.reps), ("c.jsonl", 3, 1));
        let o = parse(&["--corpus", "c"]).unwrap();
        assert_eq!(
            (
                o.class,
                o.results,
                o.misses,
                o.reps,
                o.min_recall,
                o.max_fpr
            ),
            (None, None, 0, 64, None, None)
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let path = std::env::temp_dir().join(format!("xtask-eval-{}.jsonl", std::process::id()));
        let good = r#"{"id":"a","class":"sqli","template":"SELECT 1","input":"1","attack":false}"#;
        std::fs::write(&path, format!("{good}\n\n{{\"id\": 3\n")).unwrap();
        let err = read_corpus(path.to_str().unwrap()).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(err.contains(":3:"), "{err}");
        assert!(
            read_corpus("/nonexistent/corpus.jsonl")
                .unwrap_err()
                .contains("cannot open")
        );
    }

    #[test]
    fn sql_cases_are_scored_and_thresholds_apply() {
        let case = |id: &str, template: &str, input: &str, attack: bool| Case {
            id: id.into(),
            class: "sqli".into(),
            dialect: Some("postgres".into()),
            template: template.into(),
            input: input.into(),
            attack,
            tags: Vec::new(),
            span: None,
        };
        let cases = [
            case(
                "tp",
                "SELECT * FROM t WHERE a = '' OR 1=1 --'",
                "' OR 1=1 --",
                true,
            ),
            case(
                "tn",
                "SELECT * FROM t WHERE a = 'O''Brien'",
                "O'Brien",
                false,
            ),
            case("fp", "SELECT * FROM t WHERE a = 1 OR 1", "1 OR 1", false),
        ];
        let outcomes: Vec<(Class, Outcome)> = cases
            .into_iter()
            .map(|c| (Class::Sqli, evaluate(Class::Sqli, c, &reps(1), 1).unwrap()))
            .collect();
        let tallies = tally(&outcomes);
        let t = &tallies[0].1;
        assert_eq!((t.tp, t.fn_, t.fp, t.tn), (1, 0, 1, 1));
        let mut options =
            parse(&["--corpus", "c", "--min-recall", "1", "--max-fpr", "0.5"]).unwrap();
        assert!(check_thresholds(&tallies, &options));
        options.max_fpr = Some(0.4);
        assert!(!check_thresholds(&tallies, &options));
    }

    #[test]
    fn every_class_runs_its_detector() {
        let case = |class: &str, template: &str, input: &str| Case {
            id: class.into(),
            class: class.into(),
            dialect: None,
            template: template.into(),
            input: input.into(),
            attack: true,
            tags: Vec::new(),
            span: None,
        };
        let cases = [
            (
                Class::Path,
                case("path", "/srv/files/../etc/passwd", "../etc/passwd"),
            ),
            (Class::Shell, case("shell", "ls /tmp; id", "/tmp; id")),
            (
                Class::Ssrf,
                case("ssrf", "http://127.0.0.1/admin", "127.0.0.1"),
            ),
            (
                Class::Sqli,
                case("sqli", "SELECT 1 WHERE a = 1 OR 1=1", "1 OR 1=1"),
            ),
            (
                Class::Redirect,
                case("redirect", "//evil.example/login", "//evil.example/login"),
            ),
            (
                Class::Header,
                case(
                    "header",
                    "en\r\nSet-Cookie: admin=1",
                    "en\r\nSet-Cookie: admin=1",
                ),
            ),
            (
                Class::Log,
                case("log", "login name=ann\nINFO admin ok", "ann\nINFO admin ok"),
            ),
            (
                Class::Xss,
                case(
                    "xss",
                    "<p>Hi <script>alert(1)</script></p>",
                    "<script>alert(1)</script>",
                ),
            ),
        ];
        for (class, case) in cases {
            let outcome = evaluate(class, case, &reps(1), 1).unwrap();
            assert!(outcome.verdict, "{} missed", class.name());
            assert!(!outcome.detail.is_empty());
        }
        let benign = case("path", "/srv/files/report.pdf", "report.pdf");
        assert!(!evaluate(Class::Path, benign, &reps(1), 1).unwrap().verdict);
    }

    /// Options that time each case `n` times, in verbatim mode.
    fn reps(n: u32) -> Options {
        let mut options = parse(&["--corpus", "test"]).unwrap();
        options.reps = n;
        options
    }

    #[test]
    fn span_mode_judges_the_argument_and_not_the_template() {
        let case = |template: &str, input: &str, attack: bool, span: Option<[usize; 2]>| Case {
            id: "span".into(),
            class: "sqli".into(),
            dialect: None,
            template: template.into(),
            input: input.into(),
            attack,
            tags: Vec::new(),
            span,
        };
        let mut span = reps(1);
        span.mode = Mode::Span;
        let verbatim = reps(1);
        // The template spells the input as code; the argument is a literal.
        let coincident = || {
            case(
                "SELECT * FROM t WHERE a = 'OR 1=1' OR 1=1",
                "OR 1=1",
                false,
                Some([27, 33]),
            )
        };
        assert!(
            evaluate(Class::Sqli, coincident(), &verbatim, 1)
                .unwrap()
                .verdict
        );
        let judged = evaluate(Class::Sqli, coincident(), &span, 1).unwrap();
        assert!(judged.spanned && !judged.verdict);
        // Upper-cased before it was spliced: never found verbatim.
        let transformed = || {
            case(
                "SELECT * FROM t WHERE a = 'X' OR '1'='1'",
                "x' or '1'='1",
                true,
                Some([27, 39]),
            )
        };
        assert!(
            !evaluate(Class::Sqli, transformed(), &verbatim, 1)
                .unwrap()
                .verdict
        );
        assert!(
            evaluate(Class::Sqli, transformed(), &span, 1)
                .unwrap()
                .verdict
        );
        // Without a span, the input's only occurrence is the span.
        let once = case(
            "SELECT * FROM t WHERE a = 'x' OR '1'='1'",
            "x' OR '1'='1",
            true,
            None,
        );
        assert!(evaluate(Class::Sqli, once, &span, 1).unwrap().spanned);
        let outside = case("SELECT 1", "1", false, Some([4, 99]));
        assert!(evaluate(Class::Sqli, outside, &span, 1).is_err());
    }

    #[test]
    fn quantiles_pick_from_sorted_samples() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.99), 4.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}

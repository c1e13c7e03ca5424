//! The demo's results as a terminal table and as a self-contained HTML page.

use std::fmt::Write as _;
use std::time::Duration;

use askama::Template;

use super::Row;
use super::outcome::shorten;

/// Totals and timings.
#[derive(Debug)]
pub(crate) struct Summary {
    /// Attacks among them.
    pub(crate) attacks: usize,
    /// Attacks whose effect showed on the unprotected build.
    pub(crate) exploited: usize,
    /// Attacks the protected build stopped without effect.
    pub(crate) stopped: usize,
    /// Benign requests the protected build served.
    pub(crate) served: usize,
    /// Benign requests.
    pub(crate) benign: usize,
    /// Rows where a build did not do what the demo expects.
    pub(crate) failed: usize,
    /// Building both variants.
    pub(crate) built: Duration,
    /// Starting the shops and sending every request.
    pub(crate) ran: Duration,
}

impl Summary {
    /// Counts `rows`.
    pub(crate) fn of(rows: &[Row], built: Duration, ran: Duration) -> Summary {
        let attacks: Vec<&Row> = rows
            .iter()
            .filter(|r| r.scenario.expected.is_attack())
            .collect();
        let benign: Vec<&Row> = rows
            .iter()
            .filter(|r| !r.scenario.expected.is_attack())
            .collect();
        Summary {
            attacks: attacks.len(),
            exploited: attacks.iter().filter(|r| r.unprotected.as_expected).count(),
            stopped: attacks.iter().filter(|r| r.protected.as_expected).count(),
            served: benign.iter().filter(|r| r.protected.as_expected).count(),
            benign: benign.len(),
            failed: rows.iter().filter(|r| !r.passed()).count(),
            built,
            ran,
        }
    }

    /// One line for the terminal.
    pub(crate) fn line(&self) -> String {
        format!(
            "\nattacks: {}/{} exploited the unprotected shop, {}/{} stopped by rasp; \
             benign: {}/{} served by the protected shop\n\
             builds {:.1} s, requests {:.1} s; {}",
            self.exploited,
            self.attacks,
            self.stopped,
            self.attacks,
            self.served,
            self.benign,
            self.built.as_secs_f64(),
            self.ran.as_secs_f64(),
            match self.failed {
                0 => "demo passed".to_owned(),
                n => format!("demo FAILED: {n} row(s) marked ✗"),
            }
        )
    }
}

/// Column widths of the terminal table, in characters.
const WIDTHS: [usize; 6] = [3, 10, 6, 50, 46, 48];

/// The terminal table: one line per row, `✗` before failed rows.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let header = [
        "#",
        "class",
        "kind",
        "request",
        "unprotected",
        "protected (rasp)",
    ];
    line(&mut out, " ", header.map(str::to_owned));
    let rule = WIDTHS.map(|w| "─".repeat(w));
    line(&mut out, " ", rule);
    for row in rows {
        let mark = if row.passed() { " " } else { "✗" };
        line(
            &mut out,
            mark,
            [
                row.n.to_string(),
                row.scenario.class.to_owned(),
                row.scenario.expected.as_str().to_owned(),
                row.scenario.label.clone(),
                row.unprotected.text.clone(),
                row.protected.text.clone(),
            ],
        );
    }
    out
}

fn line(out: &mut String, mark: &str, cells: [String; 6]) {
    out.push_str(mark);
    for (cell, width) in cells.iter().zip(WIDTHS) {
        let cell = shorten(cell, width);
        let pad = width.saturating_sub(cell.chars().count());
        let _ = write!(out, "{cell}{} ", " ".repeat(pad));
    }
    // No trailing spaces.
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
}

/// A row as the page shows it.
struct PageRow<'a> {
    n: usize,
    class: &'a str,
    kind: &'a str,
    label: &'a str,
    sent: String,
    unprotected: &'a str,
    protected: &'a str,
    unprotected_ok: bool,
    protected_ok: bool,
    attack: bool,
}

#[derive(Template)]
#[template(path = "demo_report.html")]
struct Page<'a> {
    rows: Vec<PageRow<'a>>,
    summary: &'a Summary,
    built: String,
    ran: String,
}

/// The self-contained HTML report.
pub(crate) fn html(rows: &[Row], summary: &Summary) -> Result<String, String> {
    let page = Page {
        rows: rows
            .iter()
            .map(|row| PageRow {
                n: row.n,
                class: row.scenario.class,
                kind: row.scenario.expected.as_str(),
                label: &row.scenario.label,
                sent: row
                    .scenario
                    .requests
                    .iter()
                    .map(|r| r.shown())
                    .collect::<Vec<_>>()
                    .join("\n"),
                unprotected: &row.unprotected.text,
                protected: &row.protected.text,
                unprotected_ok: row.unprotected.as_expected,
                protected_ok: row.protected.as_expected,
                attack: row.scenario.expected.is_attack(),
            })
            .collect(),
        summary,
        built: format!("{:.1}", summary.built.as_secs_f64()),
        ran: format!("{:.1}", summary.ran.as_secs_f64()),
    };
    page.render()
        .map_err(|e| format!("cannot render the report: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::http::Request;
    use super::super::outcome::{Cell, Check, Expected};
    use super::super::scenario::Scenario;
    use super::*;

    fn row(n: usize, expected: Expected, label: &str, protected_ok: bool) -> Row {
        Row {
            n,
            scenario: Scenario {
                class: "html",
                label: label.to_owned(),
                expected,
                requests: vec![Request {
                    method: "GET",
                    target: "/".to_owned(),
                    form: None,
                }],
                check: Check::Served(200),
            },
            unprotected: Cell {
                text: "EXPLOITED: `<script>` in the body".to_owned(),
                as_expected: true,
            },
            protected: Cell {
                text: "blocked [demo-01-p]".to_owned(),
                as_expected: protected_ok,
            },
        }
    }

    #[test]
    fn failed_rows_are_marked_and_counted() {
        let rows = [
            row(1, Expected::Attack, "XSS", true),
            row(2, Expected::Attack, "XSS again", false),
        ];
        let table = table(&rows);
        assert!(table.lines().nth(2).unwrap().starts_with(' '), "{table}");
        assert!(table.lines().nth(3).unwrap().starts_with('✗'), "{table}");
        let summary = Summary::of(&rows, Duration::ZERO, Duration::ZERO);
        assert_eq!(
            (summary.attacks, summary.stopped, summary.failed),
            (2, 1, 1)
        );
        assert!(summary.line().contains("demo FAILED"));
    }

    #[test]
    fn the_page_escapes_what_the_requests_carried() {
        let rows = [row(
            1,
            Expected::Attack,
            "name `<script>alert(1)</script>`",
            true,
        )];
        let summary = Summary::of(&rows, Duration::ZERO, Duration::ZERO);
        let page = html(&rows, &summary).unwrap();
        assert!(page.contains("&#60;script&#62;alert(1)"), "{page}");
        assert!(!page.contains("<script>alert(1)"), "{page}");
        // Self-contained: no external stylesheet or script.
        assert!(!page.contains("<link") && !page.contains("src="), "{page}");
    }
}

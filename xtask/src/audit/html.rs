//! The HTML report: one self-contained page (inline CSS, no scripts, no
//! external assets) that can be attached to a CI run or opened offline.

use std::collections::BTreeMap;

use askama::Template;

use super::map::{CallSite, EscapeHatch, GuardStatus, Sink, SinkMap, SpanShare};
use super::severity::security_severity;

/// Sinks of one kind, counted by guard status.
struct KindCount<'a> {
    kind: &'a str,
    severity: &'static str,
    typed: usize,
    runtime_checked: usize,
    span_exact: usize,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rasp sink map</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d232a; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d5dae0; vertical-align: top; }
th { background: #243447; color: #fff; }
tr:nth-child(even) td { background: #f2f5f8; }
code { font: 13px ui-monospace, monospace; }
.typed { color: #17692c; font-weight: 600; }
.runtime-checked { color: #9a5b00; font-weight: 600; }
.span-exact { color: #17692c; font-weight: 600; }
.asserted { color: #a1262b; font-weight: 600; }
.summary { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #d5dae0; border-radius: 6px; padding: .6rem 1rem; background: #f7f9fb; }
.card b { display: block; font-size: 1.6rem; }
</style>
</head>
<body>
<h1>rasp sink map</h1>
<p>Schema <code>{{ schema }}</code>; audited crates: {{ crates }}.</p>
<div class="summary">
<div class="card"><b>{{ sinks.len() }}</b>sinks</div>
<div class="card"><b class="typed">{{ typed }}</b>typed</div>
<div class="card"><b class="runtime-checked">{{ runtime_checked }}</b>runtime-checked</div>
<div class="card"><b class="asserted">{{ escape_hatches.len() }}</b>escape hatches</div>
<div class="card"><b class="runtime-checked">{{ call_sites.len() }}</b>call sites</div>
</div>
<h2>Sinks by kind</h2>
<table>
<tr><th>kind</th><th>severity</th><th>typed</th><th>runtime-checked</th><th>span-exact</th></tr>
{% for count in counts %}<tr><td>{{ count.kind }}</td><td>{{ count.severity }}</td><td>{{ count.typed }}</td><td>{{ count.runtime_checked }}</td><td>{{ count.span_exact }}</td></tr>
{% endfor %}</table>
{% if !shares.is_empty() %}<h2>Span-exact share by class</h2>
<p>Uses of <code>rasp::sql!</code>/<code>rasp::shell!</code> against calls of the class's verbatim guards.</p>
<table>
<tr><th>class</th><th>span-exact</th><th>verbatim</th><th>share</th></tr>
{% for share in shares %}<tr><td>{{ share.class }}</td><td>{{ share.span_exact }}</td><td>{{ share.verbatim }}</td><td>{{ share.percent() }} %</td></tr>
{% endfor %}</table>
{% endif %}
<h2>Sinks</h2>
<table>
<tr><th>kind</th><th>id</th><th>fn path</th><th>file:line</th><th>guarded params</th><th>guard</th>{% if with_actions %}<th>action</th>{% endif %}</tr>
{% for sink in sinks %}<tr><td>{{ sink.kind }}</td><td><code>{{ sink.id }}</code></td><td><code>{{ sink.fn_path }}</code></td><td><code>{{ sink.file }}:{{ sink.line }}</code></td><td>{{ sink.guarded.join(", ") }}</td><td class="{{ sink.guard.as_str() }}">{{ sink.guard.as_str() }}</td>{% if with_actions %}<td>{{ sink.action.as_deref().unwrap_or("") }}</td>{% endif %}</tr>
{% endfor %}</table>
<h2>Escape hatches</h2>
{% if escape_hatches.is_empty() %}<p>No <code>trust_unchecked!</code> use.</p>
{% else %}<table>
<tr><th>file:line</th><th>module</th><th>guard</th><th>class</th><th>reason</th></tr>
{% for hatch in escape_hatches %}<tr><td><code>{{ hatch.file }}:{{ hatch.line }}:{{ hatch.column }}</code></td><td><code>{{ hatch.module }}</code></td><td class="asserted">asserted</td><td>{{ hatch.class }}</td><td>{{ hatch.reason }}</td></tr>
{% endfor %}</table>
{% endif %}<h2>Runtime-checked call sites</h2>
<p>Calls of runtime-checked guards, and escape hatches the registry does not list, found by reading the sources.</p>
{% if call_sites.is_empty() %}<p>No call site found.</p>
{% else %}<table>
<tr><th>file:line:col</th><th>fn path</th><th>call</th><th>matched by</th><th>class</th><th>guard</th><th>reason</th></tr>
{% for site in call_sites %}<tr><td><code>{{ site.file }}:{{ site.line }}:{{ site.column }}</code></td><td><code>{{ site.fn_path }}</code></td><td><code>{{ site.described() }}</code></td><td>{{ site.matched.as_str() }}</td><td>{{ site.class }}</td><td class="{{ site.site.as_str() }}">{{ site.site.as_str() }}</td><td>{{ site.reason.as_deref().unwrap_or("") }}</td></tr>
{% endfor %}</table>
{% endif %}</body>
</html>
"#
)]
struct Report<'a> {
    schema: &'a str,
    crates: String,
    typed: usize,
    runtime_checked: usize,
    counts: Vec<KindCount<'a>>,
    shares: Vec<SpanShare>,
    sinks: &'a [Sink],
    /// Whether `--policy` filled in the sinks' actions.
    with_actions: bool,
    escape_hatches: &'a [EscapeHatch],
    call_sites: &'a [CallSite],
}

/// Renders `map`, audited from `crates`, as one HTML page.
pub(crate) fn render(map: &SinkMap, crates: &[String]) -> String {
    let mut counts: BTreeMap<&str, KindCount<'_>> = BTreeMap::new();
    for sink in &map.sinks {
        let count = counts.entry(&sink.kind).or_insert_with(|| KindCount {
            kind: &sink.kind,
            severity: security_severity(&sink.kind),
            typed: 0,
            runtime_checked: 0,
            span_exact: 0,
        });
        match sink.guard {
            GuardStatus::Typed => count.typed += 1,
            GuardStatus::RuntimeChecked => count.runtime_checked += 1,
            GuardStatus::SpanExact => count.span_exact += 1,
        }
    }
    let typed = map
        .sinks
        .iter()
        .filter(|s| s.guard == GuardStatus::Typed)
        .count();
    let runtime_checked = map
        .sinks
        .iter()
        .filter(|s| s.guard == GuardStatus::RuntimeChecked)
        .count();
    Report {
        schema: &map.schema,
        crates: crates.join(", "),
        typed,
        runtime_checked,
        counts: counts.into_values().collect(),
        shares: map.span_shares(),
        sinks: &map.sinks,
        with_actions: map.sinks.iter().any(|s| s.action.is_some()),
        escape_hatches: &map.escape_hatches,
        call_sites: &map.call_sites,
    }
    .render()
    .expect("rendering into a String cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::map::SCHEMA;

    #[test]
    fn hostile_text_is_escaped() {
        let map = SinkMap {
            schema: SCHEMA.to_owned(),
            sinks: Vec::new(),
            escape_hatches: vec![EscapeHatch {
                reason: "</td><script>alert(1)</script>\u{1b}[31m".to_owned(),
                class: "sql".to_owned(),
                module: "app".to_owned(),
                file: "src/lib.rs".to_owned(),
                line: 1,
                column: 1,
            }],
            call_sites: vec![CallSite {
                site: crate::audit::map::SiteKind::Exit,
                class: "sql".to_owned(),
                call: "trust_unchecked!".to_owned(),
                matched: crate::audit::map::Matched::Macro,
                file: "src/main.rs".to_owned(),
                line: 2,
                column: 5,
                fn_path: "app::main".to_owned(),
                via: Some("<b>helper</b>".to_owned()),
                reason: Some("<img src=x onerror=alert(2)>".to_owned()),
            }],
        };
        let page = render(&map, &["app".to_owned()]);
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
        assert!(
            !page.contains("<img") && !page.contains("<b>helper"),
            "{page}"
        );
        assert!(
            page.contains("&#60;img src=x onerror=alert(2)&#62;"),
            "{page}"
        );
    }
}

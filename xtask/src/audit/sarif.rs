//! SARIF 2.1.0 output, for code-scanning services.
//!
//! One rule per sink kind, one per class of runtime-checked call site, and
//! one for the escape hatch; one result per sink, escape hatch or call site
//! whose file is inside the audited workspace (a service can only show
//! files of the repository it scans). Results are notes for typed sinks and
//! warnings for everything checked only at run time: the map is an
//! inventory, not a list of bugs. Fingerprints come from the sink id, or
//! from file, enclosing fn, call and an ordinal, never from a line, so an
//! alert keeps its identity when code above it moves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};

use super::map::{GuardStatus, SinkMap, SiteKind, in_workspace};
use super::severity::{ESCAPE_HATCH_SEVERITY, cwe, security_severity};

/// Id of the rule that lists escape hatches.
const ESCAPE_HATCH_RULE: &str = "rasp/escape-hatch";

/// Key of the fingerprint in `partialFingerprints`, versioned like the map.
const FINGERPRINT: &str = "raspSinkId/v1";

/// Renders `map` as a SARIF 2.1.0 log (pretty JSON).
pub(crate) fn render(map: &SinkMap) -> String {
    let mut text = serde_json::to_string_pretty(&log(map)).expect("a SARIF log always serializes");
    text.push('\n');
    text
}

/// The SARIF log of `map`.
pub(crate) fn log(map: &SinkMap) -> Sarif {
    let kinds: BTreeSet<&str> = map.sinks.iter().map(|s| s.kind.as_str()).collect();
    let mut rules: Vec<ReportingDescriptor> = kinds.iter().map(|kind| sink_rule(kind)).collect();
    let call_classes: BTreeSet<&str> = map
        .call_sites
        .iter()
        .filter(|s| s.site == SiteKind::RuntimeChecked)
        .map(|s| s.class.as_str())
        .collect();
    rules.extend(call_classes.iter().map(|class| call_site_rule(class)));
    rules.push(escape_hatch_rule());

    let mut results = Vec::new();
    for sink in map.sinks.iter().filter(|s| in_workspace(&s.file)) {
        let (level, note) = match sink.guard {
            GuardStatus::Typed => (
                ResultLevel::Note,
                "typed: trust-trait bounds and the runtime check",
            ),
            GuardStatus::RuntimeChecked => (
                ResultLevel::Warning,
                "runtime-checked only: string-built input",
            ),
            GuardStatus::SpanExact => (
                ResultLevel::Note,
                "span-exact: built from a literal template, each argument judged where it stands",
            ),
        };
        let guarded = if sink.guarded.is_empty() {
            String::from("no parameter")
        } else {
            sink.guarded.join(", ")
        };
        results.push(result(
            &sink_rule_id(&sink.kind),
            level,
            format!(
                "{} sink `{}` ({}) guards {guarded}; {note}",
                sink.kind, sink.id, sink.fn_path
            ),
            &sink.file,
            sink.line,
            format!("sink:{}", sink.id),
        ));
    }
    // Several hatches can share a module and reason; an ordinal keeps their
    // fingerprints distinct without involving line numbers.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for hatch in map.escape_hatches.iter().filter(|h| in_workspace(&h.file)) {
        let ordinal = seen.entry((&hatch.module, &hatch.reason)).or_default();
        *ordinal += 1;
        results.push(result(
            ESCAPE_HATCH_RULE,
            ResultLevel::Warning,
            format!(
                "value asserted safe for {} with trust_unchecked!: \"{}\"",
                hatch.class, hatch.reason
            ),
            &hatch.file,
            hatch.line,
            format!("escape-hatch:{}:{}#{ordinal}", hatch.module, hatch.reason),
        ));
    }

    // The same ordinal scheme as the hatches: sites sharing a file, fn,
    // call and reason are numbered in file order.
    let mut seen: BTreeMap<(&str, &str, String, Option<&str>), usize> = BTreeMap::new();
    for site in map.call_sites.iter().filter(|s| in_workspace(&s.file)) {
        let call = site.described();
        let ordinal = seen
            .entry((
                &site.file,
                &site.fn_path,
                call.clone(),
                site.reason.as_deref(),
            ))
            .or_default();
        *ordinal += 1;
        let within = if site.fn_path.is_empty() {
            String::new()
        } else {
            format!(" in {}", site.fn_path)
        };
        let (rule, message, key) = match site.site {
            SiteKind::RuntimeChecked => (
                call_site_rule_id(&site.class),
                format!(
                    "{call} checks string-built {} input at run time{within} (matched by {})",
                    site.class,
                    site.matched.as_str()
                ),
                format!("call-site:{}:{}:{call}", site.file, site.fn_path),
            ),
            SiteKind::Exit => {
                let reason = site.reason.as_deref().unwrap_or_default();
                (
                    ESCAPE_HATCH_RULE.to_owned(),
                    format!(
                        "value asserted safe for {} with {call}{within}: \"{reason}\"",
                        site.class
                    ),
                    format!("exit:{}:{}:{call}:{reason}", site.file, site.fn_path),
                )
            }
        };
        results.push(result(
            &rule,
            ResultLevel::Warning,
            message,
            &site.file,
            site.line,
            format!("{key}#{ordinal}"),
        ));
    }

    let driver = ToolComponent::builder()
        .name("rasp audit-sinks")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

fn sink_rule_id(kind: &str) -> String {
    format!("rasp/sink/{kind}")
}

fn sink_rule(kind: &str) -> ReportingDescriptor {
    let mut tags = vec![
        "security".to_owned(),
        "rasp-sink".to_owned(),
        kind.to_owned(),
    ];
    if let Some(cwe) = cwe(kind) {
        tags.push(format!("external/cwe/{}", cwe.to_ascii_lowercase()));
    }
    ReportingDescriptor::builder()
        .id(sink_rule_id(kind))
        .name(format!("{}Sink", capitalized(kind)))
        .short_description(text(format!("A guarded {kind} sink")))
        .full_description(text(format!(
            "Input reaching this {kind} sink is checked by rasp; runtime-checked sinks rely on \
             the runtime detector alone."
        )))
        .properties(properties(tags, security_severity(kind)))
        .build()
}

fn call_site_rule_id(class: &str) -> String {
    format!("rasp/call-site/{class}")
}

fn call_site_rule(class: &str) -> ReportingDescriptor {
    let mut tags = vec![
        "security".to_owned(),
        "rasp-call-site".to_owned(),
        class.to_owned(),
    ];
    if let Some(cwe) = cwe(class) {
        tags.push(format!("external/cwe/{}", cwe.to_ascii_lowercase()));
    }
    ReportingDescriptor::builder()
        .id(call_site_rule_id(class))
        .name(format!("{}CallSite", capitalized(class)))
        .short_description(text(format!("A call of a runtime-checked {class} guard")))
        .full_description(text(format!(
            "String-built text reaches a {class} guard here; only the runtime detector checks it."
        )))
        .properties(properties(tags, security_severity(class)))
        .build()
}

fn escape_hatch_rule() -> ReportingDescriptor {
    ReportingDescriptor::builder()
        .id(ESCAPE_HATCH_RULE)
        .name("EscapeHatch")
        .short_description(text(
            "A value asserted safe with trust_unchecked!".to_owned(),
        ))
        .full_description(text(
            "The compiler's trust check was skipped for this value; only the runtime detector \
             checks it."
                .to_owned(),
        ))
        .properties(properties(
            vec!["security".to_owned(), "rasp-escape-hatch".to_owned()],
            ESCAPE_HATCH_SEVERITY,
        ))
        .build()
}

fn result(
    rule: &str,
    level: ResultLevel,
    message: String,
    file: &str,
    line: u32,
    fingerprint: String,
) -> SarifResult {
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(file)
                        .uri_base_id("%SRCROOT%")
                        .build(),
                )
                .region(Region::builder().start_line(i64::from(line)).build())
                .build(),
        )
        .build();
    SarifResult::builder()
        .rule_id(rule)
        .level(level)
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(FINGERPRINT.to_owned(), fingerprint)]))
        .build()
}

fn properties(tags: Vec<String>, severity: &str) -> PropertyBag {
    PropertyBag::builder()
        .tags(tags)
        .additional_properties(BTreeMap::from([(
            "security-severity".to_owned(),
            json!(severity),
        )]))
        .build()
}

fn text(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

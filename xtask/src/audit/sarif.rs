//! SARIF 2.1.0 output, for code-scanning services.
//!
//! One rule per sink kind plus one for the escape hatch; one result per sink
//! or escape hatch whose file is inside the audited workspace (a service can
//! only show files of the repository it scans). Results are notes for typed
//! sinks and warnings for runtime-only sinks and escape hatches: the map is
//! an inventory, not a list of bugs. Fingerprints come from the sink id, so
//! an alert keeps its identity when code above the sink moves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};

use super::map::{GuardStatus, SinkMap, in_workspace};
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

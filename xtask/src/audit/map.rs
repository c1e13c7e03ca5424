//! The sink map: what the harness found, in the versioned JSON schema that
//! every output format and the baseline share.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Schema tag written into every JSON sink map; bump it on any breaking
/// change so an old baseline is refused instead of misread.
pub(crate) const SCHEMA: &str = "rasp.sink-map/2";

/// Every sink and escape hatch of the audited crates, and the call sites
/// of runtime-checked guards found in their sources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SinkMap {
    /// Always [`SCHEMA`].
    pub(crate) schema: String,
    /// Sorted by kind, then id.
    pub(crate) sinks: Vec<Sink>,
    /// Sorted by file, line, column.
    pub(crate) escape_hatches: Vec<EscapeHatch>,
    /// From the source scan (see `scan`), sorted by file, line, column;
    /// absent from the harness's output, which only reads the registry.
    #[serde(default)]
    pub(crate) call_sites: Vec<CallSite>,
}

/// One registered sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sink {
    pub(crate) kind: String,
    pub(crate) id: String,
    pub(crate) fn_path: String,
    /// Relative to the audited workspace root when the file is inside it.
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) guarded: Vec<String>,
    pub(crate) guard: GuardStatus,
    /// What a detection at this sink does under the policy given with
    /// `--policy` (absent without one, so baselines do not depend on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) action: Option<String>,
}

/// One `trust_unchecked!` use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EscapeHatch {
    pub(crate) reason: String,
    /// The sink class the value is vouched for; empty in maps written
    /// before hatches named one.
    #[serde(default)]
    pub(crate) class: String,
    pub(crate) module: String,
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// One call of a runtime-checked guard, or one escape hatch the registry
/// cannot show (in a binary, or once per caller of a generic helper),
/// found by reading the sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CallSite {
    pub(crate) site: SiteKind,
    /// The sink class the guard checks, or the escape hatch vouches for.
    pub(crate) class: String,
    /// The guard as the facade names it (`rasp::sql`,
    /// `rasp::fs::Root::open`), or `trust_unchecked!`.
    pub(crate) call: String,
    pub(crate) matched: Matched,
    /// Relative to the audited workspace root.
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
    /// The enclosing fn (`crate::module::Type::name`); empty outside any fn.
    pub(crate) fn_path: String,
    /// The generic helper whose escape hatch this call reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) via: Option<String>,
    /// The escape hatch's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

/// What a call site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SiteKind {
    /// A call of a guard that checks string-built text at run time.
    RuntimeChecked,
    /// A `trust_unchecked!` (or a call of a generic helper holding one).
    Exit,
}

/// How the scan recognised a call site, i.e. how sure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Matched {
    /// The called path resolves to the guard.
    Path,
    /// A method of the guard's name, in a file that refers to the guard's
    /// module: the receiver's type is unknown.
    MethodName,
    /// A `trust_unchecked!` invocation.
    Macro,
    /// A call, by name, of a generic fn holding an escape hatch.
    HelperCall,
}

impl SiteKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SiteKind::RuntimeChecked => GuardStatus::RuntimeChecked.as_str(),
            SiteKind::Exit => ASSERTED,
        }
    }
}

impl Matched {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Matched::Path => "path",
            Matched::MethodName => "method name",
            Matched::Macro => "macro",
            Matched::HelperCall => "helper call",
        }
    }
}

impl CallSite {
    /// What a reader needs to find the call: the guard, and the helper it
    /// goes through.
    pub(crate) fn described(&self) -> String {
        match &self.via {
            Some(helper) => format!("{} via helper `{helper}`", self.call),
            None => self.call.clone(),
        }
    }
}

/// How a sink's input is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum GuardStatus {
    /// Trust-trait bounds checked by the compiler, plus the runtime check.
    Typed,
    /// Only the runtime check: the text is built as a string.
    RuntimeChecked,
    /// Built by `rasp::sql!`/`rasp::shell!` from a literal template; the
    /// runtime check judges exactly the arguments' spans.
    SpanExact,
}

impl GuardStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GuardStatus::Typed => "typed",
            GuardStatus::RuntimeChecked => "runtime-checked",
            GuardStatus::SpanExact => "span-exact",
        }
    }
}

/// How far one class has moved to span-exact text: the uses of its
/// span-exact macro against the calls of its verbatim guards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpanShare {
    pub(crate) class: String,
    /// `rasp::sql!`/`rasp::shell!` uses (each registers a sink site).
    pub(crate) span_exact: usize,
    /// Calls of the class's runtime-checked guards found by the scan.
    pub(crate) verbatim: usize,
}

impl SpanShare {
    fn empty(class: &str) -> SpanShare {
        SpanShare {
            class: class.to_owned(),
            span_exact: 0,
            verbatim: 0,
        }
    }

    /// The span-exact share in percent, rounded down.
    pub(crate) fn percent(&self) -> usize {
        (self.span_exact * 100)
            .checked_div(self.span_exact + self.verbatim)
            .unwrap_or(0)
    }
}

/// Status of an escape hatch in the reports: the value was asserted safe.
pub(crate) const ASSERTED: &str = "asserted";

impl SinkMap {
    /// The span-exact share of every class that has either kind of site,
    /// sorted by class: the migration gauge.
    pub(crate) fn span_shares(&self) -> Vec<SpanShare> {
        let mut shares: BTreeMap<&str, SpanShare> = BTreeMap::new();
        for sink in self
            .sinks
            .iter()
            .filter(|s| s.guard == GuardStatus::SpanExact)
        {
            shares
                .entry(&sink.kind)
                .or_insert_with(|| SpanShare::empty(&sink.kind))
                .span_exact += 1;
        }
        for site in self
            .call_sites
            .iter()
            .filter(|s| s.site == SiteKind::RuntimeChecked)
        {
            shares
                .entry(&site.class)
                .or_insert_with(|| SpanShare::empty(&site.class))
                .verbatim += 1;
        }
        shares.into_values().collect()
    }

    /// Parses a map written by the harness or saved as a baseline.
    pub(crate) fn from_json(text: &str) -> Result<SinkMap, String> {
        let map: SinkMap = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if map.schema != SCHEMA {
            return Err(format!(
                "schema `{}` is not `{SCHEMA}`; regenerate it with this xtask",
                map.schema
            ));
        }
        Ok(map)
    }

    /// Pretty JSON with a trailing newline, stable for diffs.
    pub(crate) fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a sink map always serializes");
        text.push('\n');
        text
    }

    /// Rewrites file paths under `root` as workspace-relative paths with `/`
    /// separators and sorts the entries into their documented order.
    pub(crate) fn normalize(&mut self, root: &Path) {
        for sink in &mut self.sinks {
            sink.file = relative_to(root, &sink.file);
        }
        for hatch in &mut self.escape_hatches {
            hatch.file = relative_to(root, &hatch.file);
        }
        self.sinks.sort_by(|a, b| {
            (&a.kind, &a.id, &a.file, a.line).cmp(&(&b.kind, &b.id, &b.file, b.line))
        });
        self.sinks.dedup();
        self.escape_hatches
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.escape_hatches.dedup();
        self.call_sites
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
}

/// Whether `file` is a path inside the audited workspace (after
/// [`SinkMap::normalize`]), i.e. one a code-scanning service can show.
pub(crate) fn in_workspace(file: &str) -> bool {
    !Path::new(file).is_absolute()
}

pub(crate) fn relative_to(root: &Path, file: &str) -> String {
    let path = Path::new(file);
    match path.strip_prefix(root) {
        Ok(relative) => relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => file.to_owned(),
    }
}

//! Comparison with a saved sink map, for the CI gate.
//!
//! Sinks are matched by id, escape hatches by file, module and reason, call
//! sites by file, enclosing fn, guard, class, helper and reason: never by
//! line, so code that only moved is the same code. What fails the gate: a
//! new sink guarded only at run time, a typed sink that became
//! runtime-only, a new escape hatch, a new call site (of a runtime-checked
//! guard, or an escape hatch the scan found), and a sink that disappeared
//! (a guard removed, or a crate no longer linked). New typed sinks and
//! removed escape hatches or call sites only ask for a baseline refresh.

use std::collections::BTreeMap;

use super::map::{CallSite, GuardStatus, SinkMap, SiteKind};

/// Differences between a baseline and the current map.
#[derive(Debug, Default)]
pub(crate) struct Drift {
    /// Lines describing changes that fail `--check`.
    pub(crate) failures: Vec<String>,
    /// Lines describing harmless changes.
    pub(crate) notes: Vec<String>,
}

/// Compares `current` with `baseline`.
pub(crate) fn compare(baseline: &SinkMap, current: &SinkMap) -> Drift {
    let mut drift = Drift::default();
    let old: BTreeMap<&str, _> = baseline.sinks.iter().map(|s| (s.id.as_str(), s)).collect();
    let new: BTreeMap<&str, _> = current.sinks.iter().map(|s| (s.id.as_str(), s)).collect();
    for (id, sink) in &new {
        let at = format!("{}:{}", sink.file, sink.line);
        match (old.get(id), sink.guard) {
            (None, GuardStatus::RuntimeChecked) => drift.failures.push(format!(
                "new runtime-checked {} sink `{id}` at {at}",
                sink.kind
            )),
            (None, GuardStatus::Typed) => drift
                .notes
                .push(format!("new typed {} sink `{id}` at {at}", sink.kind)),
            (None, GuardStatus::SpanExact) => drift
                .notes
                .push(format!("new span-exact {} sink `{id}` at {at}", sink.kind)),
            (Some(before), GuardStatus::RuntimeChecked) if before.guard == GuardStatus::Typed => {
                drift.failures.push(format!(
                    "sink `{id}` at {at} is no longer typed, only runtime-checked"
                ))
            }
            (Some(before), _) if before.kind != sink.kind || before.guarded != sink.guarded => {
                drift.notes.push(format!(
                    "sink `{id}` at {at} changed its kind or guarded parameters"
                ))
            }
            _ => {}
        }
    }
    for (id, sink) in &old {
        if !new.contains_key(id) {
            drift.failures.push(format!(
                "{} sink `{id}` (was at {}:{}) disappeared",
                sink.kind, sink.file, sink.line
            ));
        }
    }

    // Multisets: the same reason may be given at several places of a module.
    let count = |map: &SinkMap| {
        let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for hatch in &map.escape_hatches {
            *counts
                .entry((
                    hatch.file.clone(),
                    hatch.module.clone(),
                    hatch.reason.clone(),
                ))
                .or_default() += 1;
        }
        counts
    };
    let (before, after) = (count(baseline), count(current));
    for (key @ (file, _, reason), n) in &after {
        let was = before.get(key).copied().unwrap_or(0);
        if *n > was {
            drift.failures.push(format!(
                "{} new escape hatch(es) in {file}: \"{reason}\"",
                n - was
            ));
        }
    }
    for (key @ (file, _, reason), n) in &before {
        let now = after.get(key).copied().unwrap_or(0);
        if *n > now {
            drift.notes.push(format!(
                "{} escape hatch(es) removed from {file}: \"{reason}\"",
                n - now
            ));
        }
    }
    compare_call_sites(baseline, current, &mut drift);
    drift
}

/// What identifies a call site across edits that move it.
type CallSiteKey<'m> = (
    &'m str,
    &'m str,
    &'m str,
    &'m str,
    Option<&'m str>,
    Option<&'m str>,
);

fn call_site_key(site: &CallSite) -> CallSiteKey<'_> {
    (
        &site.file,
        &site.fn_path,
        &site.call,
        &site.class,
        site.via.as_deref(),
        site.reason.as_deref(),
    )
}

/// Call sites sharing a key are told apart by their order in the file: the
/// ones past the baseline's count are the new ones.
fn compare_call_sites(baseline: &SinkMap, current: &SinkMap, drift: &mut Drift) {
    let (before, after) = (by_key(baseline), by_key(current));
    for (key, sites) in &after {
        let was = before.get(key).map_or(0, Vec::len);
        for site in sites.iter().skip(was) {
            drift.failures.push(format!("new {}", described(site)));
        }
    }
    for (key, sites) in &before {
        let now = after.get(key).map_or(0, Vec::len);
        for site in sites.iter().skip(now) {
            drift.notes.push(format!("removed: {}", described(site)));
        }
    }
}

/// The call sites of `map` grouped by key, each group in file order.
fn by_key(map: &SinkMap) -> BTreeMap<CallSiteKey<'_>, Vec<&CallSite>> {
    let mut groups: BTreeMap<CallSiteKey<'_>, Vec<&CallSite>> = BTreeMap::new();
    for site in &map.call_sites {
        groups.entry(call_site_key(site)).or_default().push(site);
    }
    groups
}

/// A call site as the gate reports it.
fn described(site: &CallSite) -> String {
    let what = match (site.site, &site.via) {
        (SiteKind::RuntimeChecked, _) => format!("runtime-checked call site `{}`", site.call),
        (SiteKind::Exit, Some(helper)) => format!("escape hatch via helper `{helper}`"),
        (SiteKind::Exit, None) => format!("escape hatch `{}`", site.call),
    };
    let within = if site.fn_path.is_empty() {
        String::new()
    } else {
        format!(" in `{}`", site.fn_path)
    };
    let reason = site
        .reason
        .as_ref()
        .map(|reason| format!(": \"{reason}\""))
        .unwrap_or_default();
    format!(
        "{what} ({}){within} at {}:{}:{}{reason}",
        site.class, site.file, site.line, site.column
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::map::{Matched, SCHEMA};

    fn sql_call(fn_path: &str, line: u32) -> CallSite {
        CallSite {
            site: SiteKind::RuntimeChecked,
            class: "sql".to_owned(),
            call: "rasp::sql".to_owned(),
            matched: Matched::Path,
            file: "src/lib.rs".to_owned(),
            line,
            column: 5,
            fn_path: fn_path.to_owned(),
            via: None,
            reason: None,
        }
    }

    fn map(call_sites: Vec<CallSite>) -> SinkMap {
        SinkMap {
            schema: SCHEMA.to_owned(),
            sinks: vec![],
            escape_hatches: vec![],
            call_sites,
        }
    }

    fn span_exact_sink(id: &str) -> crate::audit::map::Sink {
        crate::audit::map::Sink {
            kind: "sql".to_owned(),
            id: id.to_owned(),
            fn_path: "app::report".to_owned(),
            file: "src/lib.rs".to_owned(),
            line: 7,
            guarded: vec![],
            guard: GuardStatus::SpanExact,
            action: None,
        }
    }

    #[test]
    fn a_new_span_exact_sink_is_noted_and_counted_in_the_share() {
        let before = map(vec![sql_call("app::a", 10)]);
        let mut after = map(vec![sql_call("app::a", 10)]);
        after.sinks.push(span_exact_sink("app::sql!:7"));
        after.sinks.push(span_exact_sink("app::sql!:9"));
        let drift = compare(&before, &after);
        assert!(drift.failures.is_empty(), "{drift:?}");
        assert_eq!(drift.notes.len(), 2, "{drift:?}");
        let shares = after.span_shares();
        assert_eq!(shares.len(), 1);
        assert_eq!((shares[0].span_exact, shares[0].verbatim), (2, 1));
        assert_eq!(shares[0].percent(), 66);
    }

    #[test]
    fn call_sites_that_only_moved_are_the_same() {
        let before = map(vec![sql_call("app::a", 10), sql_call("app::a", 12)]);
        let after = map(vec![sql_call("app::a", 30), sql_call("app::a", 41)]);
        let drift = compare(&before, &after);
        assert!(
            drift.failures.is_empty() && drift.notes.is_empty(),
            "{drift:?}"
        );
    }

    #[test]
    fn a_new_call_site_fails_and_a_removed_one_is_noted() {
        let before = map(vec![sql_call("app::a", 10), sql_call("app::b", 20)]);
        let mut exit = sql_call("app::c", 50);
        exit.site = SiteKind::Exit;
        exit.call = "trust_unchecked!".to_owned();
        exit.via = Some("helper".to_owned());
        exit.reason = Some("ids from our table".to_owned());
        let after = map(vec![sql_call("app::a", 10), sql_call("app::a", 14), exit]);
        let drift = compare(&before, &after);
        assert_eq!(
            drift.failures,
            [
                "new runtime-checked call site `rasp::sql` (sql) in `app::a` at src/lib.rs:14:5",
                "new escape hatch via helper `helper` (sql) in `app::c` at src/lib.rs:50:5: \"ids from our table\"",
            ]
        );
        assert_eq!(
            drift.notes,
            ["removed: runtime-checked call site `rasp::sql` (sql) in `app::b` at src/lib.rs:20:5"]
        );
    }
}

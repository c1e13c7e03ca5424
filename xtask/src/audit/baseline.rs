//! Comparison with a saved sink map, for the CI gate.
//!
//! Sinks are matched by id, escape hatches by file, module and reason (a
//! hatch that only moved lines is the same hatch). What fails the gate:
//! a new sink guarded only at run time, a typed sink that became
//! runtime-only, a new escape hatch, and a sink that disappeared (a guard
//! removed, or a crate no longer linked). New typed sinks only ask for a
//! baseline refresh.

use std::collections::BTreeMap;

use super::map::{GuardStatus, SinkMap};

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
    drift
}

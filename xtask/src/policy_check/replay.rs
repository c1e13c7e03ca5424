//! `policy-check POLICY --evidence FILE`: replays the detections recorded
//! in an evidence log against a policy and reports the decisions it would
//! change, before the policy is rolled out.
//!
//! Each record carries what a decision reads: the sink id and class, the
//! route, the client address, user and tenant, and the request id. The
//! replay rebuilds that request and asks the policy. The canary side is
//! drawn afresh for each replayed request, as for a live one: the server
//! draws it, nothing recorded fixes it. Entry rules (rate limits, block lists, the circuit breaker)
//! depend on traffic, not on one record, and are not replayed; detections
//! the old policy allowed were never recorded, so a replay shows what a
//! policy stops blocking or starts blocking among recorded ones.
//!
//! Records past a key's quota were counted rather than written (the key's
//! next record or a summary line carries the count); those counts are
//! totalled and reported, not replayed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::net::IpAddr;

use rasp_core::policy::Policy;
use rasp_core::{RequestContext, SinkClass};
use serde::Deserialize;

/// What says whether a line is a record or a summary, and how many records
/// of its key were suppressed before it.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "event.name")]
    event_name: Option<String>,
    #[serde(rename = "rasp.evidence.suppressed")]
    suppressed: Option<u64>,
}

/// The `event.name` of a summary line.
const SUMMARY: &str = "rasp.evidence.suppressed";

/// One evidence line, as far as a replay needs it.
#[derive(Deserialize)]
struct Recorded {
    #[serde(rename = "rasp.sink.id")]
    sink_id: String,
    #[serde(rename = "rasp.sink.kind")]
    sink_kind: String,
    #[serde(rename = "rasp.action")]
    action: String,
    #[serde(rename = "rasp.request.id")]
    request_id: String,
    #[serde(rename = "http.route")]
    route: Option<String>,
    #[serde(rename = "client.address")]
    client: Option<IpAddr>,
    #[serde(rename = "user.id")]
    user: Option<String>,
    #[serde(rename = "rasp.tenant.id")]
    tenant: Option<String>,
}

/// A group of records whose decision the policy changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Change {
    pub(crate) sink_id: String,
    pub(crate) route: String,
    pub(crate) recorded: String,
    pub(crate) now: &'static str,
    pub(crate) rule: &'static str,
}

/// What a replay found.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub(crate) records: usize,
    pub(crate) unchanged: usize,
    pub(crate) changes: BTreeMap<Change, usize>,
    /// Lines that are not evidence records: (line number, why).
    pub(crate) skipped: Vec<(usize, String)>,
    /// Detections the log counted (per-key quota) but did not record.
    pub(crate) suppressed: u64,
}

impl Replay {
    /// Records whose decision changes.
    pub(crate) fn changed(&self) -> usize {
        self.changes.values().sum()
    }
}

/// Replays every record of `evidence` against `policy`.
pub(crate) fn replay(policy: &Policy, evidence: impl BufRead) -> std::io::Result<Replay> {
    let mut replay = Replay::default();
    for (i, line) in evidence.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(head) = serde_json::from_str::<Line>(&line) {
            replay.suppressed += head.suppressed.unwrap_or(0);
            if head.event_name.as_deref() == Some(SUMMARY) {
                continue;
            }
        }
        let record: Recorded = match serde_json::from_str(&line) {
            Ok(record) => record,
            Err(e) => {
                replay.skipped.push((i + 1, e.to_string()));
                continue;
            }
        };
        let Some(kind) = SinkClass::from_name(&record.sink_kind) else {
            let why = format!("unknown sink kind `{}`", record.sink_kind);
            replay.skipped.push((i + 1, why));
            continue;
        };
        let mut ctx = RequestContext::builder().request_id(record.request_id);
        if let Some(route) = &record.route {
            ctx = ctx.route(route.as_str());
        }
        if let Some(ip) = record.client {
            ctx = ctx.client_ip(ip);
        }
        if let Some(user) = record.user {
            ctx = ctx.user(user);
        }
        if let Some(tenant) = record.tenant {
            ctx = ctx.tenant(tenant);
        }
        let verdict = policy.decide_at(&record.sink_id, kind, &ctx.build());
        replay.records += 1;
        let now = verdict.decision.as_str();
        if now == record.action {
            replay.unchanged += 1;
            continue;
        }
        let change = Change {
            sink_id: record.sink_id,
            route: record.route.unwrap_or_default(),
            recorded: record.action,
            now,
            rule: verdict.rule.as_str(),
        };
        *replay.changes.entry(change).or_default() += 1;
    }
    Ok(replay)
}

/// The replay as text: totals, then one row per group of changed records.
pub(crate) fn report(replay: &Replay, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nreplayed {} recorded detections from {source}: {} unchanged, {} changed",
        replay.records,
        replay.unchanged,
        replay.changed()
    );
    if replay.suppressed > 0 {
        let _ = writeln!(
            out,
            "  {} more detections were counted but not recorded (per-key quota); not replayed",
            replay.suppressed
        );
    }
    for (line, why) in replay.skipped.iter().take(5) {
        let _ = writeln!(out, "  skipped line {line}: {why}");
    }
    if replay.skipped.len() > 5 {
        let _ = writeln!(out, "  ... {} more lines skipped", replay.skipped.len() - 5);
    }
    if replay.changes.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{:>7}  {:<32} {:<20} {:<9}    {:<8} rule",
        "records", "sink", "route", "recorded", "now"
    );
    let mut rows: Vec<_> = replay.changes.iter().collect();
    // Largest groups first: what the rollout changes most.
    rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (change, count) in rows {
        let route = if change.route.is_empty() {
            "-"
        } else {
            &change.route
        };
        let _ = writeln!(
            out,
            "{count:>7}  {:<32} {:<20} {:<9} -> {:<8} {}",
            change.sink_id, route, change.recorded, change.now, change.rule
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIDENCE: &str = r#"{"timestamp":"2026-01-01T00:00:00.000Z","event.name":"rasp.sqli.monitored","rasp.action":"monitor","rasp.sink.kind":"sql","rasp.sink.id":"shop.search","rasp.reason":"breaks_literal","rasp.source.kind":"http.query","rasp.policy.revision":1,"rasp.policy.rule":"mode","rasp.request.id":"r1","http.route":"/search","client.address":"203.0.113.7","rasp.input.excerpt":"*' ** '*'='*","rasp.input.truncated":false,"rasp.input.offset":30}
{"rasp.action":"monitor","rasp.sink.kind":"sql","rasp.sink.id":"shop.search","rasp.request.id":"r2","http.route":"/search"}
{"rasp.action":"monitor","rasp.sink.kind":"shell","rasp.sink.id":"shop.export","rasp.request.id":"r3","http.route":"/export","user.id":"qa-bot"}
{"rasp.action":"block","rasp.sink.kind":"path","rasp.sink.id":"shop.files","rasp.request.id":"r4","http.route":"/files"}
not json
{"rasp.action":"block","rasp.sink.kind":"ldap","rasp.sink.id":"x","rasp.request.id":"r5"}
{"timestamp":"2026-01-01T00:01:00.000Z","event.name":"rasp.evidence.suppressed","rasp.action":"block","rasp.sink.kind":"path","rasp.sink.id":"shop.files","rasp.reason":"leaves_root","client.address":"203.0.113.7","rasp.evidence.suppressed":40}
"#;

    fn policy(text: &str) -> Policy {
        rasp_core::policy::load_str(text).unwrap()
    }

    #[test]
    fn switching_to_block_shows_every_recorded_detection_it_would_block() {
        let policy = policy(
            "schema_version = 1\nrevision = 2\nmode = \"block\"\n[allow]\nusers = [\"qa-bot\"]\n",
        );
        let replay = replay(&policy, EVIDENCE.as_bytes()).unwrap();
        assert_eq!(replay.records, 4);
        assert_eq!(replay.unchanged, 1, "the path block stays a block");
        assert_eq!(replay.skipped.len(), 2);
        assert_eq!(replay.skipped[0].0, 5);
        assert!(replay.skipped[1].1.contains("ldap"), "{:?}", replay.skipped);
        let changes: Vec<_> = replay
            .changes
            .iter()
            .map(|(c, n)| (c.sink_id.as_str(), c.recorded.as_str(), c.now, c.rule, *n))
            .collect();
        assert_eq!(
            changes,
            [
                ("shop.export", "monitor", "allow", "allowlist", 1),
                ("shop.search", "monitor", "block", "mode", 2),
            ]
        );
        let text = report(&replay, "evidence.jsonl");
        assert!(text.contains("4 recorded detections"), "{text}");
        assert!(text.contains("skipped line 5"), "{text}");
        assert_eq!(
            replay.suppressed, 40,
            "a summary line is counted, not replayed"
        );
        assert!(text.contains("40 more detections"), "{text}");
        let first_row = text.lines().find(|l| l.contains("shop.search")).unwrap();
        assert!(first_row.trim_start().starts_with('2'), "{text}");
    }

    #[test]
    fn the_same_policy_changes_nothing_and_canaries_block_a_share() {
        let monitor = policy(
            "schema_version = 1\nrevision = 1\nmode = \"monitor\"\n[sinks.path]\naction = \"block\"\n",
        );
        let same = replay(&monitor, EVIDENCE.as_bytes()).unwrap();
        assert_eq!(same.changed(), 0, "{:?}", same.changes);

        let canary = policy("schema_version = 1\nrevision = 3\nmode = \"block\"\ncanary = 50\n");
        let evidence: String = (0..200)
            .map(|i| format!("{{\"rasp.action\":\"monitor\",\"rasp.sink.kind\":\"sql\",\"rasp.sink.id\":\"s\",\"rasp.request.id\":\"req-{i}\"}}\n"))
            .collect();
        let replay = replay(&canary, evidence.as_bytes()).unwrap();
        let blocked = replay.changed();
        // Binomial(200, 0.5): standard deviation 7; this bound is 5.6 of them.
        assert!((60..140).contains(&blocked), "about half: {blocked}");
    }
}

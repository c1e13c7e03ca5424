//! `--policy FILE`: the action each sink's detections get under a policy.
//!
//! The action shown is the sink's own rule — its id, else its class, else
//! the policy's mode — with its canary share, or `allow (allowlisted)` for
//! an allowlisted sink id. Route rules and requester allowlists depend on
//! the request, so they can still change the outcome of one request; the
//! table says when the policy has any.

use std::path::Path;

use rasp_core::SinkClass;
use rasp_core::policy::{self, Action, Policy};

use super::map::SinkMap;

/// Fills in `action` for every sink of `map` from the policy at `path`.
pub(crate) fn annotate(map: &mut SinkMap, path: &Path) -> Result<(), String> {
    let policy = policy::load_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for sink in &mut map.sinks {
        sink.action = Some(match SinkClass::from_name(&sink.kind) {
            Some(kind) => action(&policy, &sink.id, kind),
            None => format!("unknown kind `{}`", sink.kind),
        });
    }
    if !policy.route_rules().is_empty() {
        eprintln!(
            "note: {} defines route rules; they can change the action for requests on those routes",
            path.display()
        );
    }
    Ok(())
}

/// The sink-level action of sink `id` of class `kind` under `policy`.
fn action(policy: &Policy, id: &str, kind: SinkClass) -> String {
    if policy.sink_allowlisted(id) {
        return "allow (allowlisted)".to_owned();
    }
    let (action, canary, on_error) = policy.site_rule(id, kind);
    let mut text = action.as_str().to_owned();
    if action == Action::Block && canary < 100 {
        text = format!("block for {canary}% (canary), monitor otherwise");
    }
    if on_error == policy::OnError::Closed {
        text.push_str(", fail-closed");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::map::{GuardStatus, SCHEMA, Sink};

    fn sink(kind: &str, id: &str) -> Sink {
        Sink {
            kind: kind.into(),
            id: id.into(),
            fn_path: "app::f".into(),
            file: "src/lib.rs".into(),
            line: 1,
            guarded: vec![],
            guard: GuardStatus::RuntimeChecked,
            action: None,
        }
    }

    #[test]
    fn every_sink_gets_the_action_of_its_own_rule() {
        let dir = std::env::temp_dir().join(format!("rasp-audit-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.toml");
        std::fs::write(
            &path,
            r#"
schema_version = 1
revision = 3
mode = "monitor"

[sinks.sql]
action = "block"
canary = 25

[sink_ids."process.shell"]
action = "block"
on_error = "closed"

[allow]
sinks = ["html.raw"]
"#,
        )
        .unwrap();
        let mut map = SinkMap {
            schema: SCHEMA.into(),
            sinks: vec![
                sink("sql", "sqlx.query"),
                sink("shell", "process.shell"),
                sink("html", "html.raw"),
                sink("log", "log.line"),
            ],
            escape_hatches: vec![],
            call_sites: vec![],
        };
        annotate(&mut map, &path).unwrap();
        let actions: Vec<&str> = map
            .sinks
            .iter()
            .filter_map(|s| s.action.as_deref())
            .collect();
        assert_eq!(
            actions,
            [
                "block for 25% (canary), monitor otherwise",
                "block, fail-closed",
                "allow (allowlisted)",
                "monitor",
            ]
        );
        std::fs::write(&path, "mode = [").unwrap();
        let error = annotate(&mut map, &path).unwrap_err();
        assert!(error.contains("policy.toml"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

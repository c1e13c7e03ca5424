//! The installed policy: one `ArcSwapOption`, read lock-free by every
//! decision and replaced whole by every reload.
//!
//! A decision loads the snapshot once and reads the revision and every rule
//! from that one snapshot, so a check never sees half of one policy and half
//! of another. Reloads are serialized by a mutex that also guards the
//! status, which makes "check the revision, then swap" atomic.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwapOption;

use super::compile::{Policy, PolicyError};
use crate::event::TARGET;
use crate::telemetry::metrics;

static CURRENT: ArcSwapOption<Policy> = ArcSwapOption::const_empty();
static STATUS: Mutex<PolicyStatus> = Mutex::new(PolicyStatus {
    revision: None,
    reloads: 0,
    reload_failures: 0,
    last_error: None,
    evidence_written: 0,
    evidence_dropped: 0,
    evidence_overwritten: 0,
    evidence_suppressed: 0,
});

/// What the policy store has done so far; see [`status`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PolicyStatus {
    /// Revision of the policy in force; `None` when no policy is installed
    /// and the process-wide [`crate::Mode`] decides.
    pub revision: Option<u64>,
    /// Policies installed since the process started.
    pub reloads: u64,
    /// Policies refused since the process started.
    pub reload_failures: u64,
    /// Why the most recent refused policy was refused; cleared by the next
    /// successful install.
    pub last_error: Option<String>,
    /// Evidence records written since the process started.
    pub evidence_written: u64,
    /// Evidence records lost (queue full, file not writable, deleted with
    /// the oldest rotated file) since the process started.
    pub evidence_dropped: u64,
    /// The part of `evidence_dropped` deleted with the oldest rotated file
    /// (`[evidence] max_rotated_files`).
    pub evidence_overwritten: u64,
    /// Evidence records not written because their key had used up its
    /// quota (`[evidence] max_per_key`); reported in summary lines.
    pub evidence_suppressed: u64,
}

fn status_lock() -> MutexGuard<'static, PolicyStatus> {
    // The status is plain data updated in one statement at a time: a panic
    // while it was held cannot leave it inconsistent.
    STATUS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The snapshot decisions read. Lock-free; never allocates after the first
/// call on a thread.
#[inline]
pub(crate) fn snapshot() -> arc_swap::Guard<Option<Arc<Policy>>> {
    CURRENT.load()
}

/// The policy in force, if any.
pub fn current() -> Option<Arc<Policy>> {
    CURRENT.load_full()
}

/// Revision, reload counts and last error of the policy store.
pub fn status() -> PolicyStatus {
    let evidence = crate::event::evidence_counts();
    PolicyStatus {
        evidence_written: evidence.written,
        evidence_dropped: evidence.dropped,
        evidence_overwritten: evidence.overwritten,
        evidence_suppressed: evidence.suppressed,
        ..status_lock().clone()
    }
}

/// Waits until every evidence record offered so far is written and
/// flushed, or `timeout` passes; whether it was (true without a log). Call
/// it at shutdown, after the last request.
pub fn flush_evidence(timeout: std::time::Duration) -> bool {
    match &*CURRENT.load() {
        Some(policy) => policy
            .evidence_log()
            .is_none_or(|(log, _)| log.flush(timeout)),
        None => true,
    }
}

/// Parses and validates a policy from TOML text, without installing it.
pub fn load_str(text: &str) -> Result<Policy, PolicyError> {
    Policy::from_toml(text)
}

/// Reads, parses and validates a policy file, without installing it.
pub fn load_file(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
    Policy::from_file(path.as_ref())
}

/// Installs `policy`, replacing the one in force for every later decision.
///
/// Refused, leaving the policy in force unchanged, when its revision is
/// lower than the installed one's, or when it is `strict` and names sinks no
/// linked code registers. Without `strict`, such sinks are reported in a
/// warning event (`rasp.policy.unknown_sinks`). Every outcome is counted in
/// [`status`] and reported on the `rasp::security` target.
pub fn install(policy: Policy) -> Result<u64, PolicyError> {
    let mut status = status_lock();
    match validate_against_installed(&policy, &status).and_then(|unknown| {
        policy.open_evidence()?;
        Ok(unknown)
    }) {
        Ok(unknown) => {
            let revision = policy.revision();
            crate::event::set_rules(policy.event_rules());
            CURRENT.store(Some(Arc::new(policy)));
            status.revision = Some(revision);
            status.reloads += 1;
            status.last_error = None;
            drop(status);
            metrics::reloaded();
            if !unknown.is_empty() {
                unknown_sinks(revision, &unknown);
            }
            installed(revision);
            // Counts suppressed under the old policy's rules are reported
            // now, before the new rules apply.
            crate::event::flush_suppressed();
            Ok(revision)
        }
        Err(error) => Err(refuse(status, error)),
    }
}

/// Reads, validates and installs the policy file at `path`: what a file
/// watch or a signal handler runs. On any error the policy in force stays,
/// the error is reported and counted, and it is returned.
pub fn reload_file(path: impl AsRef<Path>) -> Result<u64, PolicyError> {
    match load_file(path) {
        Ok(policy) => install(policy),
        Err(error) => Err(refuse(status_lock(), error)),
    }
}

/// Like [`reload_file`], for bytes already read from the file.
#[cfg_attr(not(feature = "policy-watch"), allow(dead_code))]
pub(crate) fn reload_bytes(bytes: &[u8]) -> Result<u64, PolicyError> {
    match Policy::from_bytes(bytes) {
        Ok(policy) => install(policy),
        Err(error) => Err(refuse(status_lock(), error)),
    }
}

/// Counts and reports a reload that failed before a policy could be parsed.
#[cfg_attr(not(feature = "policy-watch"), allow(dead_code))]
pub(crate) fn reload_failed(error: PolicyError) -> PolicyError {
    refuse(status_lock(), error)
}

/// Removes the installed policy: decisions fall back to the process-wide
/// [`crate::Mode`], and the next install may have any revision.
pub fn uninstall() {
    let mut status = status_lock();
    CURRENT.store(None);
    crate::event::set_rules(crate::event::EventRules::DEFAULT);
    status.revision = None;
    drop(status);
    crate::event::flush_suppressed();
}

fn validate_against_installed(
    policy: &Policy,
    status: &PolicyStatus,
) -> Result<Vec<String>, PolicyError> {
    if let Some(installed) = status.revision
        && policy.revision() < installed
    {
        return Err(PolicyError::StaleRevision {
            installed,
            offered: policy.revision(),
        });
    }
    let unknown = policy.unknown_sink_ids();
    if policy.strict() && !unknown.is_empty() {
        return Err(PolicyError::UnknownSinks { ids: unknown });
    }
    Ok(unknown)
}

fn refuse(mut status: MutexGuard<'static, PolicyStatus>, error: PolicyError) -> PolicyError {
    status.reload_failures += 1;
    status.last_error = Some(error.to_string());
    let in_force = status.revision;
    drop(status);
    metrics::reload_failed();
    tracing::event!(
        target: TARGET,
        tracing::Level::ERROR,
        event.name = "rasp.policy.reload_failed",
        rasp.policy.revision = in_force,
        error = %error,
        "policy refused; the policy in force stays",
    );
    error
}

fn installed(revision: u64) {
    tracing::event!(
        target: TARGET,
        tracing::Level::INFO,
        event.name = "rasp.policy.installed",
        rasp.policy.revision = revision,
        "policy installed",
    );
}

fn unknown_sinks(revision: u64, ids: &[String]) {
    tracing::event!(
        target: TARGET,
        tracing::Level::WARN,
        event.name = "rasp.policy.unknown_sinks",
        rasp.policy.revision = revision,
        rasp.policy.unknown_sinks = %ids.join(", "),
        "policy names sinks that are not registered; their rules never apply",
    );
}

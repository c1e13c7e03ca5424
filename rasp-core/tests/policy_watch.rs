//! Reloads triggered from outside: a watched file replaced the way editors
//! and Kubernetes replace it, and `SIGHUP`.

mod policy_support;

use std::path::Path;
use std::time::{Duration, Instant};

use rasp_core::policy;

use policy_support::*;

fn policy_text(revision: u64) -> String {
    format!("schema_version = 1\nrevision = {revision}\nmode = \"monitor\"\n")
}

/// Waits until `done` holds, for at most ten seconds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `text` to a temporary file beside `path`, then renames it over
/// `path`: how editors and most deployment tools save.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_watched_file_is_reloaded_when_saved_or_replaced() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy_text(1)).unwrap();
    let watch = policy::watch(&path).unwrap();
    assert_eq!(watch.path(), path);
    assert_eq!(policy::status().revision, Some(1));

    // Written in place.
    std::fs::write(&path, policy_text(2)).unwrap();
    eventually("an in-place write", || policy::status().revision == Some(2));
    // Replaced by a rename: the watched inode is gone.
    save_by_rename(&path, &policy_text(3));
    eventually("a rename", || policy::status().revision == Some(3));
    save_by_rename(&path, &policy_text(4));
    eventually("a second rename", || policy::status().revision == Some(4));

    // An invalid save is refused; the policy in force stays.
    let failures = policy::status().reload_failures;
    save_by_rename(&path, "schema_version = 1\nrevision = 5\nmode = 3\n");
    eventually("a refused save", || {
        policy::status().reload_failures > failures
    });
    assert_eq!(policy::status().revision, Some(4));
    assert!(policy::status().last_error.unwrap().contains("`mode`"));

    drop(watch);
    std::fs::write(&path, policy_text(6)).unwrap();
    std::thread::sleep(policy::DEBOUNCE * 3);
    assert_eq!(policy::status().revision, Some(4), "the watch stopped");
}

#[cfg(unix)]
#[test]
fn a_configmap_symlink_swap_is_reloaded() {
    use std::os::unix::fs::symlink;

    let _lock = policy_lock();
    // The layout kubelet gives a mounted ConfigMap: the file is a symlink
    // through `..data`, itself a symlink to a timestamped folder, and an
    // update swaps `..data` atomically to a new folder.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v1 = root.join("..2026_01_01_00_00_00.1");
    std::fs::create_dir(&v1).unwrap();
    std::fs::write(v1.join("policy.toml"), policy_text(10)).unwrap();
    symlink(&v1, root.join("..data")).unwrap();
    symlink("..data/policy.toml", root.join("policy.toml")).unwrap();

    let _watch = policy::watch(root.join("policy.toml")).unwrap();
    assert_eq!(policy::status().revision, Some(10));

    let v2 = root.join("..2026_01_01_00_05_00.2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(v2.join("policy.toml"), policy_text(11)).unwrap();
    symlink(&v2, root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();
    eventually("a ConfigMap update", || {
        policy::status().revision == Some(11)
    });
}

#[cfg(unix)]
#[test]
fn sighup_reloads_the_file() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy_text(20)).unwrap();
    let reloads = policy::status().reloads;
    let handler = policy::reload_on_sighup(&path).unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    eventually("SIGHUP", || policy::status().revision == Some(20));
    assert_eq!(policy::status().reloads, reloads + 1);

    std::fs::write(&path, policy_text(21)).unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    eventually("a second SIGHUP", || policy::status().revision == Some(21));
    drop(handler);
}

//! Reloads triggered from outside: a watched file replaced the way editors
//! and Kubernetes replace it, and `SIGHUP`.

mod policy_support;

use std::path::Path;
use std::time::{Duration, Instant};

use rasp_core::policy::{self, PolicyError};

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

/// Runs `f` on its own thread and returns its result, or `None` if it has
/// not returned within five seconds (the thread is then left blocked).
fn within_5s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    result.recv_timeout(Duration::from_secs(5)).ok()
}

/// A named pipe at `path`: opening it for reading blocks until a writer
/// comes, and none ever does.
#[cfg(unix)]
fn mkfifo(path: &Path) {
    #[allow(
        clippy::disallowed_methods,
        reason = "test set-up runs a fixed system tool, no input reaches it"
    )]
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn a_fifo_policy_path_is_refused_without_hanging_any_reload() {
    let _lock = policy_lock();
    capture_events();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, policy_text(30)).unwrap();
    policy::reload_file(&good).unwrap();
    let fifo = dir.path().join("policy.toml");
    mkfifo(&fifo);
    let failures = policy::status().reload_failures;
    take_events();

    // A direct reload.
    let path = fifo.clone();
    let result = within_5s(move || policy::reload_file(&path)).expect("the reload returned");
    match result {
        Err(PolicyError::Io { message, .. }) => assert!(message.contains("FIFO"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        policy::status().revision,
        Some(30),
        "the last good policy stays"
    );
    assert_eq!(policy::status().reload_failures, failures + 1);
    // Again on this thread, where its events are captured.
    assert!(policy::reload_file(&fifo).is_err());
    assert!(
        take_events()
            .iter()
            .any(|e| e["event.name"] == "rasp.policy.reload_failed"),
        "the refusal is reported"
    );

    // A watch's first load.
    let path = fifo.clone();
    let watched = within_5s(move || policy::watch(&path).map(drop)).expect("watch returned");
    assert!(
        matches!(watched, Err(PolicyError::Io { .. })),
        "{watched:?}"
    );

    // A reload on SIGHUP: the handler thread must come back for the next
    // signal, which loads a good file again.
    let handler = policy::reload_on_sighup(&fifo).unwrap();
    let failures = policy::status().reload_failures;
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    eventually("a refused SIGHUP reload", || {
        policy::status().reload_failures > failures
    });
    std::fs::remove_file(&fifo).unwrap();
    std::fs::write(&fifo, policy_text(31)).unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    eventually("the next SIGHUP reload", || {
        policy::status().revision == Some(31)
    });
    drop(handler);
}

#[test]
fn a_watch_whose_first_load_fails_returns_the_error() {
    let _lock = policy_lock();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    assert!(matches!(
        policy::watch(&missing),
        Err(PolicyError::Io { .. })
    ));
    let invalid = dir.path().join("invalid.toml");
    std::fs::write(&invalid, "schema_version = 1\nrevision = 1\nmode = 3\n").unwrap();
    let failures = policy::status().reload_failures;
    let err = policy::watch(&invalid).unwrap_err();
    assert!(err.to_string().contains("mode"), "{err}");
    assert_eq!(policy::status().reload_failures, failures + 1);
    assert_eq!(policy::status().revision, None, "nothing was installed");

    // Its benign twin: a valid file is loaded and watched.
    let valid = dir.path().join("valid.toml");
    std::fs::write(&valid, policy_text(40)).unwrap();
    let watch = policy::watch(&valid).unwrap();
    assert_eq!(policy::status().revision, Some(40));
    drop(watch);
}

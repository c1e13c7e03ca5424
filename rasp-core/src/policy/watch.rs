//! Reload the policy when its file changes.
//!
//! The watch is on the file's *folder*, not the file: editors save by
//! writing a new file and renaming it over the old one, and Kubernetes
//! updates a mounted ConfigMap by swapping a `..data` symlink, so the inode
//! behind the path changes and a watch on the file itself would go silent
//! after the first update. Every debounced change in the folder re-reads the
//! file; unchanged contents are skipped, so changes to neighbouring files
//! cost one small read and no reload.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::compile::{PolicyError, read_bounded};
use super::store;

/// How long the folder must be quiet before the file is re-read: long enough
/// for a write-then-rename or a symlink swap to finish.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// A running watch of a policy file; dropping it stops the watch.
pub struct PolicyWatch {
    path: PathBuf,
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl std::fmt::Debug for PolicyWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyWatch")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PolicyWatch {
    /// The watched policy file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Loads the policy file at `path` now, then reloads it whenever it changes
/// until the returned [`PolicyWatch`] is dropped.
///
/// Outcomes of loads and reloads are reported like those of
/// [`super::reload_file`] (events, [`super::status`], metrics); an invalid
/// file keeps the policy in force. An error is returned, and nothing is
/// watched, when the first load fails (the file is missing, unreadable,
/// not a regular file, or not a valid policy: a service must not start
/// believing it is protected by a policy that never loaded) or when the
/// folder cannot be watched.
pub fn watch(path: impl Into<PathBuf>) -> Result<PolicyWatch, PolicyError> {
    let path = path.into();
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let io = |e: notify_debouncer_mini::notify::Error| PolicyError::Io {
        path: folder.clone(),
        message: e.to_string(),
    };

    let first = read_bounded(&path).map_err(store::reload_failed)?;
    store::reload_bytes(&first)?;
    let mut last = Some(first);
    let file = path.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, move |events: DebounceEventResult| {
        if events.is_ok() {
            last = reload_if_changed(&file, last.take());
        }
    })
    .map_err(io)?;
    debouncer
        .watcher()
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(io)?;
    Ok(PolicyWatch {
        path,
        _debouncer: debouncer,
    })
}

/// Re-reads the file and installs it unless its bytes are `last`'s. Returns
/// the bytes read, which become the next `last`.
fn reload_if_changed(path: &Path, last: Option<Vec<u8>>) -> Option<Vec<u8>> {
    match read_bounded(path) {
        Ok(bytes) if last.as_deref() == Some(&bytes[..]) => Some(bytes),
        Ok(bytes) => {
            // Errors are reported and counted by the store.
            let _ = store::reload_bytes(&bytes);
            Some(bytes)
        }
        Err(error) => {
            store::reload_failed(error);
            None
        }
    }
}

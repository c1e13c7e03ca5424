//! Reload the policy file on `SIGHUP`, the conventional "re-read your
//! configuration" signal.

use std::path::PathBuf;
use std::thread::JoinHandle;

use signal_hook::consts::SIGHUP;
use signal_hook::iterator::{Handle, Signals};

use super::compile::PolicyError;
use super::store;

/// A running `SIGHUP` handler; dropping it stops handling the signal.
#[derive(Debug)]
pub struct SighupReload {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

/// Reloads the policy file at `path` every time the process receives
/// `SIGHUP`, until the returned [`SighupReload`] is dropped.
///
/// Each reload is reported like one of [`super::reload_file`]; an invalid
/// file keeps the policy in force. The signal is handled on a dedicated
/// thread, never inside the signal handler.
pub fn reload_on_sighup(path: impl Into<PathBuf>) -> Result<SighupReload, PolicyError> {
    let path = path.into();
    let mut signals = Signals::new([SIGHUP]).map_err(|e| PolicyError::Io {
        path: path.clone(),
        message: format!("cannot handle SIGHUP: {e}"),
    })?;
    let handle = signals.handle();
    let thread = std::thread::Builder::new()
        .name("rasp-policy-sighup".to_owned())
        .spawn(move || {
            for _ in signals.forever() {
                // Errors are reported and counted by the store.
                let _ = store::reload_file(&path);
            }
        })
        .map_err(|e| PolicyError::Io {
            path: PathBuf::new(),
            message: format!("cannot start the SIGHUP thread: {e}"),
        })?;
    Ok(SighupReload {
        handle,
        thread: Some(thread),
    })
}

impl Drop for SighupReload {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

//! [`Root`]'s operations with `tokio`.

use std::io;
use std::path::{Path, PathBuf};

use cap_std::fs::Dir;

use super::{DirEntry, FsError, PathText, Root, resolve_under};

/// The operations of a [`Root`] for async code. The path checks are the
/// same and run in the caller's task, inside its request context; the
/// operation itself runs beneath the root's directory handle on tokio's
/// blocking pool, confined exactly as [`Root`]'s.
#[derive(Debug, Clone, Copy)]
pub struct TokioRoot<'a> {
    pub(super) root: &'a Root,
}

impl TokioRoot<'_> {
    /// Like [`Root::resolve`]. The text check runs here, in the request
    /// context; only the resolution moves to the blocking pool.
    pub async fn resolve(&self, relative: impl PathText) -> Result<PathBuf, FsError> {
        let joined = self.root.join(relative)?;
        let dir = self.root.dir.clone();
        tokio::task::spawn_blocking(move || resolve_under(&dir, joined))
            .await
            .map_err(io::Error::other)?
    }

    /// Checks `relative` as text here, then runs `op` beneath the root's
    /// handle on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        relative: &Path,
        op: impl FnOnce(&Dir, &Path) -> io::Result<T> + Send + 'static,
    ) -> Result<T, FsError> {
        self.root.join(relative)?;
        let root = self.root.clone();
        let relative = relative.to_owned();
        tokio::task::spawn_blocking(move || root.beneath(&relative, op))
            .await
            .map_err(io::Error::other)?
    }

    /// Opens a file for reading.
    pub async fn open(&self, relative: impl PathText) -> Result<tokio::fs::File, FsError> {
        let file = self
            .run(relative.__guard_text(&super::ROOT), |dir, path| {
                dir.open(path)
            })
            .await?;
        Ok(tokio::fs::File::from_std(file.into_std()))
    }

    /// Creates (or truncates) a file for writing.
    pub async fn create(&self, relative: impl PathText) -> Result<tokio::fs::File, FsError> {
        let file = self
            .run(relative.__guard_text(&super::ROOT), |dir, path| {
                dir.create(path)
            })
            .await?;
        Ok(tokio::fs::File::from_std(file.into_std()))
    }

    /// Reads a whole file.
    pub async fn read(&self, relative: impl PathText) -> Result<Vec<u8>, FsError> {
        self.run(relative.__guard_text(&super::ROOT), |dir, path| {
            dir.read(path)
        })
        .await
    }

    /// Reads a whole file as UTF-8.
    pub async fn read_to_string(&self, relative: impl PathText) -> Result<String, FsError> {
        self.run(relative.__guard_text(&super::ROOT), |dir, path| {
            dir.read_to_string(path)
        })
        .await
    }

    /// Writes a whole file, creating or truncating it.
    pub async fn write(
        &self,
        relative: impl PathText,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), FsError> {
        // The blocking pool needs the bytes for as long as the write runs.
        let contents = contents.as_ref().to_vec();
        self.run(relative.__guard_text(&super::ROOT), move |dir, path| {
            dir.write(path, contents)
        })
        .await
    }

    /// Removes a file (a link inside the root is removed itself, never
    /// followed).
    pub async fn remove_file(&self, relative: impl PathText) -> Result<(), FsError> {
        self.run(relative.__guard_text(&super::ROOT), |dir, path| {
            dir.remove_file(path)
        })
        .await
    }

    /// Creates a directory and its missing parents.
    pub async fn create_dir_all(&self, relative: impl PathText) -> Result<(), FsError> {
        self.run(relative.__guard_text(&super::ROOT), |dir, path| {
            dir.create_dir_all(path)
        })
        .await
    }

    /// Lists a directory (`""` or `"."` for the root itself), read whole
    /// on the blocking pool.
    pub async fn read_dir(&self, relative: impl PathText) -> Result<Vec<DirEntry>, FsError> {
        self.run(relative.__guard_text(&super::ROOT), |dir, path| {
            dir.read_dir(path)?.collect()
        })
        .await
    }
}

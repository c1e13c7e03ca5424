//! [`Root`]'s operations with `tokio::fs`.

use std::io;
use std::path::{Path, PathBuf};

use super::{FsError, Root, resolve_under};

/// The operations of a [`Root`] with `tokio::fs`; the path checks are the
/// same, and the resolution on disk runs on tokio's blocking pool.
#[derive(Debug, Clone, Copy)]
pub struct TokioRoot<'a> {
    pub(super) root: &'a Root,
}

impl TokioRoot<'_> {
    /// Like [`Root::resolve`]. The text check runs here, in the request
    /// context; only the resolution moves to the blocking pool.
    pub async fn resolve(&self, relative: impl AsRef<Path>) -> Result<PathBuf, FsError> {
        let joined = self.root.join(relative)?;
        let dir = self.root.dir.clone();
        tokio::task::spawn_blocking(move || resolve_under(&dir, joined))
            .await
            .map_err(io::Error::other)?
    }

    /// Opens a file for reading.
    pub async fn open(&self, relative: impl AsRef<Path>) -> Result<tokio::fs::File, FsError> {
        Ok(tokio::fs::File::open(self.resolve(relative).await?).await?)
    }

    /// Creates (or truncates) a file for writing.
    pub async fn create(&self, relative: impl AsRef<Path>) -> Result<tokio::fs::File, FsError> {
        Ok(tokio::fs::File::create(self.resolve(relative).await?).await?)
    }

    /// Reads a whole file.
    pub async fn read(&self, relative: impl AsRef<Path>) -> Result<Vec<u8>, FsError> {
        Ok(tokio::fs::read(self.resolve(relative).await?).await?)
    }

    /// Reads a whole file as UTF-8.
    pub async fn read_to_string(&self, relative: impl AsRef<Path>) -> Result<String, FsError> {
        Ok(tokio::fs::read_to_string(self.resolve(relative).await?).await?)
    }

    /// Writes a whole file, creating or truncating it.
    pub async fn write(
        &self,
        relative: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), FsError> {
        Ok(tokio::fs::write(self.resolve(relative).await?, contents).await?)
    }

    /// Removes a file.
    pub async fn remove_file(&self, relative: impl AsRef<Path>) -> Result<(), FsError> {
        Ok(tokio::fs::remove_file(self.resolve(relative).await?).await?)
    }

    /// Creates a directory and its missing parents.
    pub async fn create_dir_all(&self, relative: impl AsRef<Path>) -> Result<(), FsError> {
        Ok(tokio::fs::create_dir_all(self.resolve(relative).await?).await?)
    }

    /// Lists a directory.
    pub async fn read_dir(
        &self,
        relative: impl AsRef<Path>,
    ) -> Result<tokio::fs::ReadDir, FsError> {
        Ok(tokio::fs::read_dir(self.resolve(relative).await?).await?)
    }
}

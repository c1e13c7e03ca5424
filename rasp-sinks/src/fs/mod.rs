//! The file-system guard: a [`Root`] directory whose files are opened,
//! read, written and removed by paths relative to it, and never outside it.
//!
//! Every operation takes a path relative to the root and
//!
//! 1. joins it under the root and runs the path detector on the result
//!    against the inputs recorded in the request context: an input that
//!    climbs out with `..`, makes the path absolute (`/etc/passwd`, `C:\`,
//!    `\\server\share`) or carries a NUL byte is reported on the
//!    `rasp::security` tracing target and, in `Block` mode, refused;
//! 2. refuses, whatever the mode and whether or not the path came from a
//!    recorded input, a path that is absolute or climbs above the root
//!    lexically, or holds a NUL byte: a `Root` never reaches outside itself;
//! 3. resolves the path on disk (symbolic links included) and refuses it
//!    when the resolved path leaves the root's own resolved path — a link
//!    inside the root that points outside, which no text check can see. A
//!    link whose target does not exist is refused too: what it would
//!    create cannot be checked.
//!
//! Percent-encoded traversals (`..%2f`, `%2e%2e`, double encoding) are the
//! application's to decode; the source records the decoded text, and that
//! decoded text is what reaches the root, so `..` is seen as `..`.
//!
//! ```text
//! let uploads = rasp::fs::Root::new("/srv/uploads")?;
//! let bytes = name.inspect(|name| uploads.read(name))?;
//! ```
//!
//! The resolution runs before the operation, so a directory swapped for a
//! link in between (a race with another writer of the root) is not seen.
//! For roots shared with untrusted writers, [`Root::cap`] (feature
//! `cap-std`) runs the same checks and then opens the path relative to a
//! directory handle, which the OS confines at the moment of the operation.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions, ReadDir};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rasp_core::check::check;
use rasp_core::policy::DecisionCache;
use rasp_core::sink::{Guard, SinkKind, SinkRegistration, SinkSite};
use rasp_core::{Blocked, Dialect, Reason};

use crate::refusal::refuse;

#[cfg(feature = "cap-std")]
mod cap;
#[cfg(feature = "tokio-fs")]
mod tokio_fs;

#[cfg(feature = "cap-std")]
pub use self::cap::CapRoot;
#[cfg(feature = "tokio-fs")]
pub use self::tokio_fs::TokioRoot;

static ROOT: SinkSite = SinkSite {
    id: "fs.root",
    kind: SinkKind::Path,
    fn_path: "rasp::fs::Root",
    file: file!(),
    line: line!(),
    guarded: &["path"],
    guard: Guard::RuntimeChecked,
    dialect: Dialect::Generic,
    cache: DecisionCache::new(),
};
inventory::submit! { SinkRegistration(&ROOT) }

/// Why a file-system operation under a [`Root`] did not happen.
#[derive(Debug)]
#[non_exhaustive]
pub enum FsError {
    /// rasp refused the path: an injection, or a path leaving the root.
    Refused(Blocked),
    /// The operation itself failed.
    Io(io::Error),
}

impl FsError {
    /// The refusal, if rasp refused the path.
    pub fn blocked(&self) -> Option<&Blocked> {
        match self {
            FsError::Refused(blocked) => Some(blocked),
            FsError::Io(_) => None,
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Refused(blocked) => blocked.fmt(f),
            FsError::Io(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for FsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FsError::Refused(blocked) => Some(blocked),
            FsError::Io(err) => Some(err),
        }
    }
}

impl From<Blocked> for FsError {
    fn from(blocked: Blocked) -> Self {
        FsError::Refused(blocked)
    }
}

impl From<io::Error> for FsError {
    fn from(err: io::Error) -> Self {
        FsError::Io(err)
    }
}

fn refused(reason: Reason) -> Blocked {
    refuse(&ROOT, reason)
}

/// A directory that untrusted relative paths are confined to.
///
/// ```
/// use rasp_core::{RequestContext, SourceMeta};
/// use rasp_sinks::fs::Root;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("files"))?;
/// std::fs::write(dir.path().join("secret.txt"), "s3cret")?;
/// let files = Root::new(dir.path().join("files"))?;
/// files.write("v1..v2.txt", "notes")?;
///
/// static NAME: SourceMeta = SourceMeta { kind: "http.query", ..SourceMeta::MANUAL };
/// let download = |name: &'static str| {
///     let ctx = RequestContext::new();
///     ctx.record_input(&NAME, name.as_bytes());
///     ctx.scope(|| files.read(name))
/// };
/// assert_eq!(download("v1..v2.txt")?, b"notes");
/// assert!(download("../secret.txt").unwrap_err().blocked().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Root {
    /// Shared: a root usually lives in a service's state, which axum clones
    /// for every request.
    dir: Arc<Path>,
}

impl Root {
    /// The root at `dir`, an existing directory; its path is resolved once
    /// (symbolic links included) and every path under it is compared with
    /// that.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<Root> {
        let dir = fs::canonicalize(dir)?;
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "a rasp::fs::Root must be a directory",
            ));
        }
        Ok(Root { dir: dir.into() })
    }

    /// The resolved directory of the root.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Joins `relative` under the root, without touching the disk: the
    /// checked text of steps 1 and 2 of the [module docs](self). The result
    /// stays under the root as text; [`resolve`](Self::resolve) also
    /// follows links.
    pub fn join(&self, relative: impl AsRef<Path>) -> Result<PathBuf, Blocked> {
        let relative = relative.as_ref();
        let joined = self.dir.join(relative);
        check(&ROOT, joined.as_os_str().as_encoded_bytes())?;
        if let Some(reason) = escapes(relative) {
            return Err(refused(reason));
        }
        Ok(joined)
    }

    /// Joins `relative` under the root and resolves it on disk: the path
    /// with every existing link followed, refused if that leaves the root.
    /// The last components may not exist yet (a file to create).
    pub fn resolve(&self, relative: impl AsRef<Path>) -> Result<PathBuf, FsError> {
        let joined = self.join(relative)?;
        resolve_under(&self.dir, joined)
    }

    /// Opens a file for reading.
    pub fn open(&self, relative: impl AsRef<Path>) -> Result<File, FsError> {
        Ok(File::open(self.resolve(relative)?)?)
    }

    /// Opens a file with `options` (`OpenOptions::new().append(true)`, …).
    pub fn open_with(
        &self,
        relative: impl AsRef<Path>,
        options: &OpenOptions,
    ) -> Result<File, FsError> {
        Ok(options.open(self.resolve(relative)?)?)
    }

    /// Creates (or truncates) a file for writing.
    pub fn create(&self, relative: impl AsRef<Path>) -> Result<File, FsError> {
        Ok(File::create(self.resolve(relative)?)?)
    }

    /// Reads a whole file.
    pub fn read(&self, relative: impl AsRef<Path>) -> Result<Vec<u8>, FsError> {
        Ok(fs::read(self.resolve(relative)?)?)
    }

    /// Reads a whole file as UTF-8.
    pub fn read_to_string(&self, relative: impl AsRef<Path>) -> Result<String, FsError> {
        Ok(fs::read_to_string(self.resolve(relative)?)?)
    }

    /// Writes a whole file, creating or truncating it.
    pub fn write(
        &self,
        relative: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), FsError> {
        Ok(fs::write(self.resolve(relative)?, contents)?)
    }

    /// Removes a file.
    pub fn remove_file(&self, relative: impl AsRef<Path>) -> Result<(), FsError> {
        Ok(fs::remove_file(self.resolve(relative)?)?)
    }

    /// Creates a directory and its missing parents.
    pub fn create_dir_all(&self, relative: impl AsRef<Path>) -> Result<(), FsError> {
        Ok(fs::create_dir_all(self.resolve(relative)?)?)
    }

    /// Lists a directory (`""` or `"."` for the root itself).
    pub fn read_dir(&self, relative: impl AsRef<Path>) -> Result<ReadDir, FsError> {
        Ok(fs::read_dir(self.resolve(relative)?)?)
    }

    /// The same operations with `tokio::fs` (feature `tokio-fs`).
    #[cfg(feature = "tokio-fs")]
    pub fn tokio(&self) -> TokioRoot<'_> {
        TokioRoot { root: self }
    }

    /// The same operations through a [`cap_std::fs::Dir`] opened on the
    /// root (feature `cap-std`): the path is checked as here, then opened
    /// relative to the directory handle, so that the OS refuses any step
    /// outside it — also one a concurrent writer adds after the check.
    #[cfg(feature = "cap-std")]
    pub fn cap(&self) -> io::Result<CapRoot<'_>> {
        CapRoot::new(self)
    }
}

/// Whether `relative` leaves the directory it is joined to, read as text:
/// absolute (a root or a prefix), climbing above it with `..`, or holding a
/// NUL byte.
fn escapes(relative: &Path) -> Option<Reason> {
    if relative.as_os_str().as_encoded_bytes().contains(&0) {
        return Some(Reason::NulByte);
    }
    let mut depth = 0usize;
    for component in relative.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => return Some(Reason::AbsolutePath),
            Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return Some(Reason::LeavesRoot),
            },
            Component::CurDir => {}
            Component::Normal(_) => depth += 1,
        }
    }
    None
}

/// Follows `joined` on disk: its longest existing prefix is resolved
/// (links included) and must stay under `dir`; the components that do not
/// exist yet are appended.
fn resolve_under(dir: &Path, joined: PathBuf) -> Result<PathBuf, FsError> {
    let mut existing = joined;
    let mut missing: Vec<OsString> = Vec::new();
    loop {
        match fs::symlink_metadata(&existing) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name() else {
                    return Err(err.into());
                };
                missing.push(name.to_owned());
                existing.pop();
            }
            Err(err) => return Err(err.into()),
        }
    }
    let resolved = match fs::canonicalize(&existing) {
        Ok(resolved) => resolved,
        // It exists (`symlink_metadata` saw it) but cannot be followed: a
        // link to nothing, which a write would create wherever it points.
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(refused(Reason::LeavesRoot).into());
        }
        Err(err) => return Err(err.into()),
    };
    if !resolved.starts_with(dir) {
        return Err(refused(Reason::LeavesRoot).into());
    }
    Ok(missing.into_iter().rev().fold(resolved, |mut path, name| {
        path.push(name);
        path
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes() {
        assert_eq!(escapes(Path::new("../x")), Some(Reason::LeavesRoot));
        assert_eq!(escapes(Path::new("a/../../x")), Some(Reason::LeavesRoot));
        assert_eq!(
            escapes(Path::new("/etc/passwd")),
            Some(Reason::AbsolutePath)
        );
        assert_eq!(escapes(Path::new("a\0b")), Some(Reason::NulByte));
        for fine in ["a/../b", "v1..v2.txt", "..foo", "a/b.txt", "", "."] {
            assert_eq!(escapes(Path::new(fine)), None, "{fine:?}");
        }
    }

    #[test]
    fn the_entry_point_is_registered() {
        let site = rasp_core::registry::sink("fs.root").expect("fs.root");
        assert_eq!(site.kind, SinkKind::Path);
    }

    #[test]
    fn missing_components_are_appended_to_the_resolved_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path()).unwrap();
        let resolved = root.resolve("new/dir/file.txt").unwrap();
        assert_eq!(resolved, root.path().join("new/dir/file.txt"));
        root.create_dir_all("new/dir").unwrap();
        root.write("new/dir/file.txt", "x").unwrap();
        assert_eq!(
            root.read_to_string("new/./dir/../dir/file.txt").unwrap(),
            "x"
        );
        let names: Vec<_> = root
            .read_dir("")
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["new"]);
        root.remove_file("new/dir/file.txt").unwrap();
        assert!(matches!(root.read("new/dir/file.txt"), Err(FsError::Io(_))));
    }
}

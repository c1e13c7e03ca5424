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
//! 3. performs the operation relative to a directory handle opened on the
//!    root when it was created, resolving the path beneath that handle at
//!    the moment of the operation: on Linux 5.6 and later with `openat2`
//!    and `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so that the kernel
//!    refuses any step out of the root (`..` above it, an absolute link, a
//!    relative link climbing out, a `/proc` magic link); elsewhere, and on
//!    older kernels, cap-std resolves it one component at a time with
//!    `O_NOFOLLOW`, reading every link itself and refusing the step that
//!    leaves. Either way the check and the use are one step: a directory
//!    swapped for a link to the outside by a concurrent writer, after any
//!    check, is refused when it is walked, never followed.
//!
//! A step refused in 3 because a link leads out (a link inside the root
//! that points outside, which no text check can see, or a link to a file
//! that does not exist yet outside the root) is reported as a refusal with
//! [`Reason::LeavesRoot`]. Links that stay inside the root are followed.
//!
//! Percent-encoded traversals (`..%2f`, `%2e%2e`, double encoding) are the
//! application's to decode; the source records the decoded text, and that
//! decoded text is what reaches the root, so `..` is seen as `..`.
//!
//! ```text
//! let uploads = rasp::fs::Root::new("/srv/uploads")?;
//! let bytes = uploads.read(name)?; // name: Tainted<String>
//! ```
//!
//! The directory handle is [cap-std]'s [`cap_std::fs::Dir`];
//! [`Root::cap`] (feature `cap-std`) hands it out for operations a `Root`
//! does not wrap. [`Root::resolve`] and [`Root::join`] return paths, which
//! are only snapshots: opening them again re-resolves the path, outside
//! the handle.
//!
//! [cap-std]: https://docs.rs/cap-std

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
/// Options for [`Root::open_with`]: the same builder as
/// [`std::fs::OpenOptions`] (`OpenOptions::new().append(true)`), applied
/// beneath the root's directory handle. Unix permissions of a created file
/// are set with [`cap_std::fs::OpenOptionsExt::mode`].
pub use cap_std::fs::OpenOptions;
/// The entries of a directory listed with [`Root::read_dir`]: names,
/// types and metadata, read relative to the listed directory's handle.
pub use cap_std::fs::{DirEntry, ReadDir};

use rasp_core::check::check;
use rasp_core::class::SinkClass;
use rasp_core::sink::{Guard, SinkRegistration, SinkSite};
use rasp_core::{Blocked, Reason};

use crate::refusal::refuse;

#[cfg(feature = "cap-std")]
mod cap;
#[cfg(feature = "tokio-fs")]
mod tokio_fs;

#[cfg(feature = "cap-std")]
pub use self::cap::CapRoot;
#[cfg(feature = "tokio-fs")]
pub use self::tokio_fs::TokioRoot;

static ROOT: SinkSite = SinkSite::new(
    "fs.root",
    SinkClass::Path,
    "rasp::fs::Root",
    file!(),
    line!(),
    &["path"],
    Guard::RuntimeChecked,
);
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
    /// The root, opened once: every operation resolves its path beneath
    /// this handle.
    handle: Arc<Dir>,
}

impl Root {
    /// The root at `dir`, an existing directory. Its path is resolved once
    /// (symbolic links included) and opened as a directory handle, which
    /// every operation then works beneath: renaming or replacing `dir`
    /// later does not move the root.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<Root> {
        let dir = fs::canonicalize(dir)?;
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "a rasp::fs::Root must be a directory",
            ));
        }
        // Opening the root itself is the one use of ambient authority: the
        // application configured this directory.
        let handle = Dir::open_ambient_dir(&dir, ambient_authority())?;
        Ok(Root {
            dir: dir.into(),
            handle: Arc::new(handle),
        })
    }

    /// The resolved directory of the root.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Joins `relative` under the root, without touching the disk: the
    /// checked text of steps 1 and 2 of the [module docs](self). The result
    /// stays under the root as text; [`resolve`](Self::resolve) also
    /// follows links. Opening the result yourself re-resolves it outside
    /// the root's handle: use the operations of `Root` instead.
    pub fn join(&self, relative: impl PathText) -> Result<PathBuf, Blocked> {
        let relative = relative.__guard_text(&ROOT);
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
    ///
    /// The answer holds for the moment it was computed; the operations of
    /// `Root` do not rely on it.
    pub fn resolve(&self, relative: impl PathText) -> Result<PathBuf, FsError> {
        let joined = self.join(relative)?;
        resolve_under(&self.dir, joined)
    }

    /// Opens a file for reading.
    pub fn open(&self, relative: impl PathText) -> Result<File, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.open(path).map(cap_std::fs::File::into_std)
        })
    }

    /// Opens a file with `options` (`OpenOptions::new().append(true)`, …).
    pub fn open_with(
        &self,
        relative: impl PathText,
        options: &OpenOptions,
    ) -> Result<File, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.open_with(path, options)
                .map(cap_std::fs::File::into_std)
        })
    }

    /// Creates (or truncates) a file for writing.
    pub fn create(&self, relative: impl PathText) -> Result<File, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.create(path).map(cap_std::fs::File::into_std)
        })
    }

    /// Reads a whole file.
    pub fn read(&self, relative: impl PathText) -> Result<Vec<u8>, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| dir.read(path))
    }

    /// Reads a whole file as UTF-8.
    pub fn read_to_string(&self, relative: impl PathText) -> Result<String, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.read_to_string(path)
        })
    }

    /// Writes a whole file, creating or truncating it.
    pub fn write(
        &self,
        relative: impl PathText,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.write(path, contents)
        })
    }

    /// Removes a file (a link inside the root is removed itself, never
    /// followed).
    pub fn remove_file(&self, relative: impl PathText) -> Result<(), FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.remove_file(path)
        })
    }

    /// Creates a directory and its missing parents.
    pub fn create_dir_all(&self, relative: impl PathText) -> Result<(), FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| {
            dir.create_dir_all(path)
        })
    }

    /// Lists a directory (`""` or `"."` for the root itself). The entries
    /// are read through the listed directory's handle, so opening one with
    /// [`DirEntry::open`] stays in it.
    pub fn read_dir(&self, relative: impl PathText) -> Result<ReadDir, FsError> {
        self.run(relative.__guard_text(&ROOT), |dir, path| dir.read_dir(path))
    }

    /// The same operations with `tokio::fs` (feature `tokio-fs`).
    #[cfg(feature = "tokio-fs")]
    pub fn tokio(&self) -> TokioRoot<'_> {
        TokioRoot { root: self }
    }

    /// The root's directory handle, a [`cap_std::fs::Dir`] (feature
    /// `cap-std`), for operations `Root` does not wrap: the path is
    /// checked as here, then opened relative to the handle, so that the OS
    /// refuses any step outside it.
    #[cfg(feature = "cap-std")]
    pub fn cap(&self) -> io::Result<CapRoot<'_>> {
        CapRoot::new(self)
    }

    /// Runs the text checks of `relative` (steps 1 and 2), then `op`
    /// beneath the root's handle (step 3).
    fn run<T>(
        &self,
        relative: &Path,
        op: impl FnOnce(&Dir, &Path) -> io::Result<T>,
    ) -> Result<T, FsError> {
        self.join(relative)?;
        self.beneath(relative, op)
    }

    /// Runs `op` on `relative`, already checked as text, beneath the
    /// root's handle. A refusal by the handle is reported with its reason
    /// when a link leading out explains it.
    fn beneath<T>(
        &self,
        relative: &Path,
        op: impl FnOnce(&Dir, &Path) -> io::Result<T>,
    ) -> Result<T, FsError> {
        // cap-std names the handle's own directory `.`, not `""`.
        let path = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        op(&self.handle, path).map_err(|err| self.explain(path, err))
    }

    /// Turns the error of an operation beneath the handle into a refusal
    /// when the path leads out of the root. cap-std reports a step out as
    /// `PermissionDenied`; resolving the path again tells that apart from
    /// a file the process may not read. The operation has already failed,
    /// so this second look decides only how the failure is reported.
    #[cold]
    fn explain(&self, path: &Path, err: io::Error) -> FsError {
        if err.kind() == io::ErrorKind::PermissionDenied
            && let Err(refusal @ FsError::Refused(_)) =
                resolve_under(&self.dir, self.dir.join(path))
        {
            return refusal;
        }
        FsError::Io(err)
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
        assert_eq!(site.class(), SinkClass::Path);
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

/// A path built by `rasp::path!` under `root`: its argument spans are
/// judged at `site` (the macro's own, registered where it is written), then
/// the text is joined under the root as [`Root::join`] does. Not for
/// applications: the macro calls it.
#[doc(hidden)]
#[inline]
pub fn __spliced(
    root: &Root,
    spliced: rasp_core::__private_v1::Spliced<rasp_core::Path>,
    site: &'static SinkSite,
) -> Result<PathBuf, Blocked> {
    root.join(rasp_core::__private_v1::checked_spliced(spliced, site)?)
}

guard_text! {
    /// The relative paths [`Root`]'s methods take: any path the application
    /// built (`&str`, `String`, `PathBuf` …); the root confines it.
    PathText: Path, class = Path,
    plain = [str, Path, std::ffi::OsStr],
    owned = [String, PathBuf, std::ffi::OsString, Box<str>, std::borrow::Cow<'_, str>],
    message = "`{Self}` is not a path that `rasp::fs::Root` can confine",
    label = "not a relative path",
    fix = "a `rasp::Tainted` file name goes in as one sanitized segment: `root.read(name.sanitize::<rasp::Path>())`, or tainted: `root.read(name)`; the root refuses any path that leaves it",
}

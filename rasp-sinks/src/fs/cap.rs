//! [`Root`]'s operations through its `cap_std::fs::Dir`.
//!
//! A [`Root`] works beneath a `Dir`, an open handle on the root: cap-std
//! resolves every path relative to it and refuses `..` above it, absolute
//! paths and links leading out, at the moment of the operation. This
//! module hands that handle out, for the operations `Root` does not wrap.
//! Its wrapped operations also resolve the path first (links included), so
//! that a link leading out is refused as [`FsError::Refused`] with a
//! reason before the handle is asked.

use std::io;
use std::path::Path;

use cap_std::fs::{Dir, File, OpenOptions, ReadDir};

use super::{FsError, PathText, Root};

/// A [`Root`] opened as a [`cap_std::fs::Dir`]; see [`Root::cap`].
#[derive(Debug)]
pub struct CapRoot<'a> {
    root: &'a Root,
    dir: Dir,
}

impl<'a> CapRoot<'a> {
    pub(super) fn new(root: &'a Root) -> io::Result<Self> {
        // A handle of its own on the root's directory: the same directory
        // the root opened, whatever its path names now.
        let dir = root.handle.try_clone()?;
        Ok(CapRoot { root, dir })
    }

    /// The directory handle, for operations this type does not wrap. Paths
    /// given to it are confined by cap-std but not checked by rasp.
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// Runs [`Root::resolve`]'s checks on `relative` and hands it back, to be
    /// opened relative to the handle.
    fn checked<'p>(&self, relative: &'p Path) -> Result<&'p Path, FsError> {
        self.root.resolve(relative)?;
        Ok(relative)
    }

    /// Opens a file for reading.
    pub fn open(&self, relative: impl PathText) -> Result<File, FsError> {
        Ok(self
            .dir
            .open(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Opens a file with `options`.
    pub fn open_with(
        &self,
        relative: impl PathText,
        options: &OpenOptions,
    ) -> Result<File, FsError> {
        Ok(self
            .dir
            .open_with(self.checked(relative.__guard_text(&super::ROOT))?, options)?)
    }

    /// Creates (or truncates) a file for writing.
    pub fn create(&self, relative: impl PathText) -> Result<File, FsError> {
        Ok(self
            .dir
            .create(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Reads a whole file.
    pub fn read(&self, relative: impl PathText) -> Result<Vec<u8>, FsError> {
        Ok(self
            .dir
            .read(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Reads a whole file as UTF-8.
    pub fn read_to_string(&self, relative: impl PathText) -> Result<String, FsError> {
        Ok(self
            .dir
            .read_to_string(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Writes a whole file, creating or truncating it.
    pub fn write(
        &self,
        relative: impl PathText,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), FsError> {
        Ok(self
            .dir
            .write(self.checked(relative.__guard_text(&super::ROOT))?, contents)?)
    }

    /// Removes a file.
    pub fn remove_file(&self, relative: impl PathText) -> Result<(), FsError> {
        Ok(self
            .dir
            .remove_file(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Creates a directory and its missing parents.
    pub fn create_dir_all(&self, relative: impl PathText) -> Result<(), FsError> {
        Ok(self
            .dir
            .create_dir_all(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }

    /// Lists a directory (`"."` for the root itself).
    pub fn read_dir(&self, relative: impl PathText) -> Result<ReadDir, FsError> {
        Ok(self
            .dir
            .read_dir(self.checked(relative.__guard_text(&super::ROOT))?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_core::Reason;

    #[test]
    fn operations_stay_inside_and_refusals_name_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s3cret").unwrap();
        std::fs::create_dir(dir.path().join("files")).unwrap();
        let root = Root::new(dir.path().join("files")).unwrap();
        let cap = root.cap().unwrap();
        cap.create_dir_all("a").unwrap();
        cap.write("a/b.txt", "nested").unwrap();
        assert_eq!(cap.read_to_string("a/b.txt").unwrap(), "nested");
        assert_eq!(cap.read_dir(".").unwrap().count(), 1);
        let refused = cap.read("../secret.txt").unwrap_err();
        assert_eq!(refused.blocked().unwrap().reason, Reason::LeavesRoot);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.path().join("link"))
                .unwrap();
            let refused = cap.read("link").unwrap_err();
            assert_eq!(refused.blocked().unwrap().reason, Reason::LeavesRoot);
            // The handle alone, without rasp's checks, refuses too.
            assert!(cap.dir().read("link").is_err());
        }
        cap.remove_file("a/b.txt").unwrap();
    }
}

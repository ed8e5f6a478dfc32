//! Private files: created 0600 in 0700 directories, written whole and made
//! durable (file and directory fsync), replaced atomically, and refused
//! when their permissions let other users in.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::CaseError;

/// Creates `path` (which must not exist) with `bytes`, 0600, durably.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    sync_dir(path)
}

/// Replaces `path` with `bytes` atomically: a reader sees the old file or
/// the new one, never a mix. The temporary file holds ciphertext only.
pub fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    write_new_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Makes a rename or a new entry in `path`'s directory durable.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Refuses a file or directory that users other than the owner can read
/// or write, with the command that fixes it.
pub fn check_private(path: &Path) -> Result<(), CaseError> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| CaseError::Io(format!("{}: {e}", path.display())))?;
    if meta.file_type().is_symlink() {
        return Err(CaseError::Unsafe(format!(
            "{} is a symbolic link; a case holds only plain files",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(CaseError::Unsafe(format!(
            "{} is open to other users (mode {:o}); run `chmod -R go-rwx {}` and check who could have read it",
            path.display(),
            meta.permissions().mode() & 0o777,
            path.display()
        )));
    }
    Ok(())
}

/// An exclusive lock on an open file, held until dropped: one writer at a
/// time appends to a journal, across processes.
pub struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    pub fn exclusive(file: &'a File) -> io::Result<Self> {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor we own for the lock's lifetime.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above; unlocking cannot fail in a way we could handle.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

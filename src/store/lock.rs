//! One process per store: an exclusive `flock` on `<store>/LOCK`, which holds the PID of
//! the process that has it. The kernel drops the lock when the process dies (even by
//! SIGKILL), so a crash never leaves a stale lock behind.

use super::StoreError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

pub const LOCK_FILE: &str = "LOCK";

pub struct LockFile {
    _file: File,
}

impl LockFile {
    pub fn acquire(dir: &Path) -> Result<LockFile, StoreError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::WouldBlock {
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                    pid: read_pid(dir),
                });
            }
            return Err(io(err));
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(LockFile { _file: file })
    }
}

/// The PID written in a store's lock file, if readable.
pub fn read_pid(dir: &Path) -> Option<u32> {
    let mut s = String::new();
    File::open(dir.join(LOCK_FILE))
        .ok()?
        .read_to_string(&mut s)
        .ok()?;
    s.trim().parse().ok()
}

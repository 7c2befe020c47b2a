//! What can go wrong with the store, each with what to do next. Every store error ends a
//! command with exit code 5.

use std::path::{Path, PathBuf};

/// The exit code of every store error.
pub const STORE_EXIT_CODE: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {} is in use by another process{}; wait for it to finish, or stop it, then run again",
        .path.display(),
        .pid.map(|p| format!(" (PID {p})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error(
        "the store {} has format version {found}, this sp4n reads version {expected}; use the sp4n release that wrote it, or move it aside and run `sp4n store rebuild`",
        .path.display()
    )]
    WrongVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "the store {} is damaged ({detail}); run `sp4n store rebuild` to move it aside, export what exists only locally and pull everything again",
        .path.display()
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot use {}: {source}; check the path, its permissions and free disk space", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A request the store refuses (unknown entry, duplicate name, a check in an update):
    /// the caller's to change; retrying as is never helps.
    #[error("{0}")]
    Refused(String),
    /// A value could not be encoded for the store (or exceeds its size limit): a fault of
    /// this program, not of the request.
    #[error("{0}; report this with the command that failed")]
    Encoding(String),
}

impl StoreError {
    /// The process exit code for this error (always 5).
    pub fn exit_code(&self) -> i32 {
        STORE_EXIT_CODE
    }

    pub(crate) fn sled(path: &Path, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(source) => StoreError::Io {
                path: path.to_path_buf(),
                source,
            },
            other => StoreError::Damaged {
                path: path.to_path_buf(),
                detail: other.to_string(),
            },
        }
    }
}

//! [`AppError`]: why a job could not be done, with what to do and whether to retry.

use crate::store::StoreError;
use crate::upstream::{Action, UpstreamError};

/// Why an application job could not be done. Every message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configuration, the mapping files or an argument is wrong: fix it, then run
    /// again. Retrying as is never helps.
    #[error("{0}")]
    Config(String),
    /// The request cannot be done as asked (an unknown complaint, one moved meanwhile).
    #[error("{0}")]
    Refused(String),
    /// The mapping files are invalid and no valid revision is remembered to route with.
    #[error(
        "{}\n\nthe mapping files are invalid and no valid revision is remembered: fix them (sp4n mappings check), then run again",
        crate::diag::render_all(.0)
    )]
    NoValidMappings(Vec<crate::diag::Diagnostic>),
    /// The store failed (locked, damaged, disk).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The platform failed or refused a call.
    #[error("{what}: {source}; {}", .source.guidance())]
    Upstream { what: String, source: UpstreamError },
    /// A file outside the store could not be written or read.
    #[error("{0}")]
    Io(String),
    /// A resource outside our control is busy (the listen address is in use): trying
    /// again later, or a restart by systemd, may succeed.
    #[error("{0}")]
    Unavailable(String),
}

/// The error of binding `listen`: an address in use is a restartable failure (exit 4,
/// which systemd restarts); anything else is a configuration error.
pub fn listen_error(listen: &str, e: &std::io::Error) -> AppError {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        AppError::Unavailable(format!(
            "cannot listen on {listen}: the address is in use by another process; it is tried again on the next start (systemd restarts the service), or choose another address in [server] listen or with --listen"
        ))
    } else {
        AppError::Config(format!(
            "cannot listen on {listen}: {e}; change [server] listen or pass --listen"
        ))
    }
}

impl AppError {
    /// Whether running the same job again later may succeed without a person acting:
    /// the platform was unavailable, or the store was locked by another process.
    pub fn retryable(&self) -> bool {
        match self {
            AppError::Upstream { source, .. } => {
                matches!(source.action(), Action::RetryLater { .. })
            }
            AppError::Store(StoreError::Locked { .. }) => true,
            _ => false,
        }
    }

    /// The platform refused the token.
    pub fn token_refused(&self) -> bool {
        matches!(
            self,
            AppError::Upstream {
                source: UpstreamError::Rejected {
                    code: crate::upstream::ErrorCode::TokenInvalid,
                    ..
                },
                ..
            }
        )
    }
}

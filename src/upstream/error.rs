//! The one error type of every upstream call, and what the caller must do about it.
//!
//! Each [`UpstreamError`] knows its [`Action`]: retry later (with the server's
//! `Retry-After` when it gave one), stop the run and alert (the token was refused), or hold
//! the item for a person (conflict, validation, forbidden, not found). It also knows whether
//! a write's outcome is unknown (the request may have been applied) so the push stage reads
//! the complaint back before sending again. Messages never contain the token.

use std::time::Duration;

/// The `kode` values of the contract's error table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorCode {
    TokenInvalid,
    Forbidden,
    NotFound,
    StatusConflict,
    RefConflict,
    Validation,
    RateLimited,
    Maintenance,
    Internal,
    /// A `kode` the contract does not name.
    Other(String),
}

impl ErrorCode {
    pub fn parse(kode: &str) -> ErrorCode {
        match kode.trim() {
            "TOKEN_INVALID" => ErrorCode::TokenInvalid,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "NOT_FOUND" => ErrorCode::NotFound,
            "STATUS_CONFLICT" => ErrorCode::StatusConflict,
            "REF_CONFLICT" => ErrorCode::RefConflict,
            "VALIDATION" => ErrorCode::Validation,
            "RATE_LIMITED" => ErrorCode::RateLimited,
            "MAINTENANCE" => ErrorCode::Maintenance,
            "INTERNAL" => ErrorCode::Internal,
            other => ErrorCode::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::TokenInvalid => "TOKEN_INVALID",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::StatusConflict => "STATUS_CONFLICT",
            ErrorCode::RefConflict => "REF_CONFLICT",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Maintenance => "MAINTENANCE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Other(s) => s,
        }
    }

    /// The HTTP status the contract pairs with this code.
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorCode::TokenInvalid => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::StatusConflict | ErrorCode::RefConflict => 409,
            ErrorCode::Validation => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Maintenance => 503,
            ErrorCode::Internal | ErrorCode::Other(_) => 500,
        }
    }
}

/// What the caller must do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A temporary failure: try again later; `after` is the server's `Retry-After`.
    RetryLater { after: Option<Duration> },
    /// The platform refused the token: stop the run, alert, retry nothing.
    StopAndAlert,
    /// The item cannot go through as it is: hold it for a person.
    HoldForPerson,
}

/// A failed upstream call.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The platform answered with an error envelope (with any HTTP status, 200 included).
    #[error("the platform answered {kode} (HTTP {http}): {pesan}", kode = .code.as_str())]
    Rejected {
        code: ErrorCode,
        pesan: String,
        http: u16,
        retry_after: Option<Duration>,
    },
    /// A non-success HTTP status without a readable envelope.
    #[error("the platform answered HTTP {status} without an error envelope")]
    Http {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// An HTML page (maintenance, proxy error) where XML or JSON was expected.
    #[error(
        "the platform answered an HTML page (HTTP {status}), probably maintenance or a proxy error"
    )]
    Html { status: u16 },
    /// No answer in time.
    #[error("no answer from the platform within {seconds} s ({phase}; [upstream] {})", timeout_setting(.phase))]
    Timeout { phase: &'static str, seconds: u64 },
    /// The connection could not be made (nothing was sent).
    #[error("could not connect to the platform: {0}")]
    Connect(String),
    /// The connection broke after the request was sent.
    #[error("the connection to the platform broke: {0}")]
    Transport(String),
    /// The answer exceeded `max_response_bytes` (after gzip decoding).
    #[error("the answer exceeded the {limit}-byte cap (max_response_bytes)")]
    TooLarge { limit: usize },
    /// The answer could not be read; its raw bytes are kept for inspection.
    #[error("the answer could not be read: {reason}")]
    Malformed { reason: String, raw: Vec<u8> },
    /// The client is configured wrongly (URL, CA file, token source).
    #[error("{0}")]
    Config(String),
}

/// The setting that bounds a timeout phase.
fn timeout_setting(phase: &str) -> &'static str {
    match phase {
        "connect" => "connect_timeout_seconds",
        "reading the answer" => "read_timeout_seconds",
        _ => "total_timeout_seconds",
    }
}

impl UpstreamError {
    /// What to do about this failure, per the contract's error table.
    pub fn action(&self) -> Action {
        match self {
            UpstreamError::Rejected {
                code, retry_after, ..
            } => match code {
                ErrorCode::TokenInvalid => Action::StopAndAlert,
                ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::StatusConflict
                | ErrorCode::RefConflict
                | ErrorCode::Validation => Action::HoldForPerson,
                ErrorCode::RateLimited | ErrorCode::Maintenance | ErrorCode::Internal => {
                    Action::RetryLater {
                        after: *retry_after,
                    }
                }
                ErrorCode::Other(_) => Action::RetryLater {
                    after: *retry_after,
                },
            },
            UpstreamError::Http {
                status,
                retry_after,
            } => match status {
                401 => Action::StopAndAlert,
                // A 4xx without an envelope is a contract violation we cannot fix by retrying
                // the same request right away, but 408/429 are temporary.
                408 | 429 => Action::RetryLater {
                    after: *retry_after,
                },
                400..=499 => Action::HoldForPerson,
                _ => Action::RetryLater {
                    after: *retry_after,
                },
            },
            UpstreamError::Html { .. }
            | UpstreamError::Timeout { .. }
            | UpstreamError::Connect(_)
            | UpstreamError::Transport(_)
            | UpstreamError::TooLarge { .. }
            | UpstreamError::Malformed { .. } => Action::RetryLater { after: None },
            UpstreamError::Config(_) => Action::StopAndAlert,
        }
    }

    /// The envelope's code, when the platform gave one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            UpstreamError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when a write may have been applied although no answer says so: the request
    /// left this machine and what came back (if anything) is not a clear refusal. The
    /// caller must read the complaint back before sending the write again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            UpstreamError::Rejected { .. } | UpstreamError::Connect(_) => false,
            UpstreamError::Config(_) => false,
            // 429 means the request was refused before any work.
            UpstreamError::Http { status, .. } => *status != 429 && *status != 401,
            UpstreamError::Html { .. }
            | UpstreamError::Timeout { .. }
            | UpstreamError::Transport(_)
            | UpstreamError::TooLarge { .. }
            | UpstreamError::Malformed { .. } => true,
        }
    }

    /// A small fixed label for metrics and reports (never a raw message).
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::Rejected { code, .. } => match code {
                ErrorCode::TokenInvalid => "token_invalid",
                ErrorCode::Forbidden => "forbidden",
                ErrorCode::NotFound => "not_found",
                ErrorCode::StatusConflict => "status_conflict",
                ErrorCode::RefConflict => "ref_conflict",
                ErrorCode::Validation => "validation",
                ErrorCode::RateLimited => "rate_limited",
                ErrorCode::Maintenance => "maintenance",
                ErrorCode::Internal => "internal",
                ErrorCode::Other(_) => "other_code",
            },
            UpstreamError::Http { .. } => "http",
            UpstreamError::Html { .. } => "html",
            UpstreamError::Timeout { .. } => "timeout",
            UpstreamError::Connect(_) => "connect",
            UpstreamError::Transport(_) => "transport",
            UpstreamError::TooLarge { .. } => "too_large",
            UpstreamError::Malformed { .. } => "malformed",
            UpstreamError::Config(_) => "config",
        }
    }

    /// One sentence for the operator: what to do next.
    pub fn guidance(&self) -> &'static str {
        if let UpstreamError::TooLarge { .. } = self {
            return "the answer is larger than [upstream] max_response_bytes: lower [upstream] page_size (fewer complaints per page) or raise max_response_bytes";
        }
        if let UpstreamError::Timeout {
            phase: "connect", ..
        } = self
        {
            return "the platform did not accept the connection in time ([upstream] connect_timeout_seconds): check the network and the platform's status";
        }
        if let UpstreamError::Timeout { .. } = self {
            return "the platform did not answer in time ([upstream] read_timeout_seconds and total_timeout_seconds): the connector retries; if pages are large, lower [upstream] page_size";
        }
        match self.action() {
            Action::StopAndAlert => match self {
                UpstreamError::Config(_) => "fix the [upstream] configuration and run again",
                _ => {
                    "the platform refused the token: ask the LAPOR! admin for a valid instansi token, update token_file or token_env, then run again"
                }
            },
            Action::HoldForPerson => {
                "held for a person: read the platform's message, fix the item, then retry or discard it"
            }
            Action::RetryLater { .. } => {
                "temporary: the connector retries on its own; if it persists, check the platform's status and the network"
            }
        }
    }
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn the_timeout_message_names_the_setting_that_fired() {
        let c = UpstreamError::Timeout {
            phase: "connect",
            seconds: 5,
        };
        assert!(c.to_string().contains("connect_timeout_seconds"), "{c}");
        let r = UpstreamError::Timeout {
            phase: "reading the answer",
            seconds: 30,
        };
        assert!(r.to_string().contains("read_timeout_seconds"), "{r}");
        let t = UpstreamError::Timeout {
            phase: "waiting for the answer",
            seconds: 60,
        };
        assert!(t.to_string().contains("total_timeout_seconds"), "{t}");
        let big = UpstreamError::TooLarge { limit: 4096 };
        assert!(big.guidance().contains("page_size"));
    }
}

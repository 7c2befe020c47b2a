//! The national platform's API as this connector speaks it: one [`Client`] with a typed
//! call per endpoint of `shared/spec/upstream-api.md`, the wire format in [`xml`], the
//! error type that tells callers whether to retry in [`error`], and the secret [`Token`].
//!
//! Everything that depends on how a real deployment differs from the contract (paths,
//! status labels, quirks) is absorbed here; the stages above see only typed values.

pub mod client;
pub mod error;
pub mod token;
pub mod xml;

pub use crate::config::check_base_url;
pub use client::Client;
pub use error::{Action, ErrorCode, UpstreamError};
pub use token::{Token, TokenError};
pub use xml::{RawComplaint, SetAside, StreamPage, WriteAction, WriteAnswer, WriteRequest};

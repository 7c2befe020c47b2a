//! The upstream token as a type that cannot leak: `Debug` and `Display` print `***`, and
//! the text is reachable only through [`Token::expose`], used when a request body is
//! built. Loading reads `token_file` or `token_env`, never an inline value.

use std::fmt;
use std::path::{Path, PathBuf};

/// A secret: the instansi's token for the platform.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(text: impl Into<String>) -> Self {
        Token(text.into().trim().to_string())
    }

    /// The secret text. Only request builders call this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the token from `token_file` or `token_env` of `[upstream]`.
    pub fn load(cfg: &crate::config::UpstreamConfig) -> Result<Token, TokenError> {
        match (&cfg.token_file, &cfg.token_env) {
            (Some(f), _) => Token::from_file(f),
            (None, Some(v)) => Token::from_env(v),
            (None, None) => Err(TokenError::NotConfigured),
        }
    }

    /// Reads the token from a file (trimmed). The error names the file, never its text.
    pub fn from_file(path: &Path) -> Result<Token, TokenError> {
        let text = crate::limits::read_to_string_capped(path, crate::limits::MAX_TOKEN_FILE_BYTES)
            .map_err(|source| TokenError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?;
        if world_readable(path) {
            tracing::warn!(
                file = %path.display(),
                "The upstream token file is readable by every user of this machine: run `chmod 600` on it (`sp4n run` refuses it)."
            );
        }
        let t = Token::new(text);
        if t.0.is_empty() {
            return Err(TokenError::EmptyFile(path.to_path_buf()));
        }
        Ok(t)
    }

    /// Reads the token from an environment variable.
    pub fn from_env(var: &str) -> Result<Token, TokenError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Token::new(v)),
            Ok(_) => Err(TokenError::EmptyVar(var.to_string())),
            Err(_) => Err(TokenError::UnsetVar(var.to_string())),
        }
    }
}

/// Whether any user of the machine may read the file at `path` (its "other" read bit).
pub fn world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

/// The message `sp4n run` refuses a world-readable token file with.
pub fn world_readable_refusal(path: &Path) -> String {
    format!(
        "the upstream token file {} is readable by every user of this machine; the agent refuses it: run `chmod 600 {}` (owner the connector's user) and start again",
        path.display(),
        path.display()
    )
}

/// Why the token could not be loaded: a configuration problem for a person to fix
/// (retrying as is never helps). No variant holds the token's text.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no upstream token configured: set token_file or token_env in [upstream]")]
    NotConfigured,
    #[error(
        "cannot read the upstream token from {}: {source} (create the file with the token as its only content, readable only by the connector's user)",
        .path.display()
    )]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the token file {} is empty", .0.display())]
    EmptyFile(PathBuf),
    #[error("the environment variable {0} is empty")]
    EmptyVar(String),
    #[error("the environment variable {0} is not set (it must hold the upstream token)")]
    UnsetVar(String),
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let t = Token::new("{3F2504E0-4F89-41D3-9A0C-0305E82C3301}");
        assert_eq!(format!("{t} {t:?} {:?}", Some(&t)), "*** *** Some(***)");
        assert_eq!(t.expose(), "{3F2504E0-4F89-41D3-9A0C-0305E82C3301}");
    }
}

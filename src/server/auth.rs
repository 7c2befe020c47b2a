//! Who may do what through the local HTTP API: roles, bearer tokens and the
//! authorization rules.
//!
//! A token is 32 random bytes shown once (`sp4n token create`); only its SHA-256 is kept.
//! `admin` sees and does everything; `opd:CODE` sees and writes only complaints routed to
//! that OPD, with their private parts; `viewer` (national coordinators) reads statuses and
//! metadata, never reporter identity or rahasia content, and writes nothing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;

/// A role an API token carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Role {
    Admin,
    Opd(String),
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role, UnknownRole> {
        let t = s.trim();
        match t {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => match t.strip_prefix("opd:") {
                Some(code) if !code.trim().is_empty() => Ok(Role::Opd(code.trim().to_string())),
                _ => Err(UnknownRole(t.to_string())),
            },
        }
    }

    /// Parses the role of a new token: an `opd:CODE` must name one of `codes` (the OPDs
    /// of mappings/opd.toml); a code written in another case is normalised to the listed
    /// one, since authorization compares codes exactly.
    pub fn parse_for_new_token(s: &str, codes: &[&str]) -> Result<Role, RoleError> {
        let role = Role::parse(s).map_err(|_| RoleError::Unknown(s.trim().to_string()))?;
        let Role::Opd(code) = role else {
            return Ok(role);
        };
        if let Some(known) = codes.iter().find(|c| **c == code) {
            return Ok(Role::Opd(known.to_string()));
        }
        if let Some(known) = codes.iter().find(|c| c.eq_ignore_ascii_case(&code)) {
            return Ok(Role::Opd(known.to_string()));
        }
        Err(RoleError::UnknownOpd {
            code,
            known: codes.join(", "),
        })
    }

    /// May this role read the complaint routed to `routed_opd` at all?
    pub fn can_read(&self, routed_opd: Option<&str>) -> bool {
        match self {
            Role::Admin | Role::Viewer => true,
            Role::Opd(code) => routed_opd == Some(code.as_str()),
        }
    }

    /// May this role read reporter identity and rahasia content of that complaint?
    pub fn can_read_private(&self, routed_opd: Option<&str>) -> bool {
        match self {
            Role::Admin => true,
            Role::Opd(code) => routed_opd == Some(code.as_str()),
            Role::Viewer => false,
        }
    }

    /// May this role act on (post follow-ups, status changes for) that complaint?
    pub fn can_write(&self, routed_opd: Option<&str>) -> bool {
        self.can_read_private(routed_opd)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Viewer => f.write_str("viewer"),
            Role::Opd(c) => write!(f, "opd:{c}"),
        }
    }
}

impl From<Role> for String {
    fn from(r: Role) -> String {
        r.to_string()
    }
}

/// A role text that names no role (the text as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role '{0}': use admin, viewer, or opd:CODE with an OPD code from mappings/opd.toml"
)]
pub struct UnknownRole(pub String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;
    fn try_from(s: String) -> Result<Role, UnknownRole> {
        Role::parse(&s)
    }
}

/// Why a role for a new token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "unknown role '{0}': use admin, viewer, or opd:CODE with an OPD code from mappings/opd.toml"
    )]
    Unknown(String),
    #[error(
        "OPD '{code}' is not in mappings/opd.toml, so a token for it would see nothing: use one of {known}"
    )]
    UnknownOpd { code: String, known: String },
}

/// Prefix that makes API tokens recognisable in a secret scanner.
pub const TOKEN_PREFIX: &str = "sp4n_";

/// Makes a new random API token (shown once to the person who creates it).
pub fn new_api_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The hash under which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_authorize() {
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert_eq!(
            Role::parse("opd:DINKES").unwrap(),
            Role::Opd("DINKES".into())
        );
        assert!(Role::parse("opd:").is_err());
        assert!(
            Role::parse("root")
                .unwrap_err()
                .to_string()
                .contains("opd:CODE")
        );
        let opd = Role::Opd("DINKES".into());
        assert!(opd.can_read(Some("DINKES")) && !opd.can_read(Some("DISHUB")));
        assert!(opd.can_write(Some("DINKES")) && !opd.can_write(None));
        assert!(Role::Viewer.can_read(Some("DINKES")));
        assert!(!Role::Viewer.can_read_private(Some("DINKES")));
        assert!(!Role::Viewer.can_write(Some("DINKES")));
        assert!(Role::Admin.can_write(None));
    }

    #[test]
    fn new_token_roles_name_known_opds() {
        let codes = ["DINKES", "DPUPKP"];
        assert_eq!(
            Role::parse_for_new_token("opd:dinkes", &codes).unwrap(),
            Role::Opd("DINKES".into())
        );
        assert!(matches!(
            Role::parse_for_new_token("opd:NOPE", &codes),
            Err(RoleError::UnknownOpd { .. })
        ));
        assert_eq!(
            Role::parse_for_new_token("viewer", &codes).unwrap(),
            Role::Viewer
        );
        assert!(matches!(
            Role::parse_for_new_token("root", &codes),
            Err(RoleError::Unknown(_))
        ));
    }

    #[test]
    fn tokens_are_random_and_only_hashes_compare() {
        let a = new_api_token().unwrap();
        let b = new_api_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(hash_token(&a), hash_token(&format!(" {a}\n")));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert!(!hash_token(&a).contains(&a[5..]));
    }
}

//! The mapping files as written: serde structures with spans, no meaning checked yet.
//! Unknown keys are errors (`deny_unknown_fields`), so a misspelt key never silently
//! turns a condition off.

use serde::Deserialize;
use toml::Spanned;

/// `opd.toml`: a list of `[[opd]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpdFile {
    #[serde(default)]
    pub opd: Vec<RawOpd>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpd {
    pub code: Spanned<String>,
    pub name: Spanned<String>,
    pub unit_id: Option<Spanned<String>>,
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    /// For a Kapanewon: its region code (`34.01.xx`).
    pub wilayah: Option<Spanned<String>>,
    pub valid_from: Option<Spanned<toml::Value>>,
    pub valid_to: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub paused: bool,
}

/// `rules.toml` (or each `rules/*.toml`): a list of `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: Spanned<String>,
    pub description: String,
    pub target: Spanned<String>,
    pub priority: Spanned<i64>,
    #[serde(default)]
    pub topics: Vec<Spanned<String>>,
    #[serde(default)]
    pub klasifikasi: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub locations: Vec<Spanned<String>>,
    #[serde(default)]
    pub channels: Vec<Spanned<String>>,
    #[serde(default)]
    pub title_any: Vec<Spanned<String>>,
    #[serde(default)]
    pub keywords_any: Vec<Spanned<String>>,
    #[serde(default)]
    pub keywords_all: Vec<Spanned<String>>,
    #[serde(default)]
    pub keywords_none: Vec<Spanned<String>>,
}

//! `kewenangan.toml`: matters outside the regency's authority (issue 15, "authority
//! first"). Each `[[urusan]]` names its owner (institution and level) and the signals that
//! identify it; a complaint that matches one goes to the triage desk ([`super::TRIAGE`])
//! with a suggested action ("Bukan Wewenang: milik PLN UP3 Wates") that `mappings
//! explain`, `triage list` and the API show. Matters are compiled into ordinary rules
//! with id `kewenangan:<id>` and a priority above every rule, so they are checked first.

use super::keywords::Lexicon;
use super::rules::{Rule, Target};
use super::{SourceFile, TRIAGE};
use crate::diag::Diagnostic;
use serde::Deserialize;
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;

/// The file name, in the mappings folder (optional).
pub const FILE: &str = "kewenangan.toml";
/// Rule ids of compiled matters start with this.
pub const RULE_PREFIX: &str = "kewenangan:";
/// Priority of compiled matters: above every rule of `rules.toml`.
pub const PRIORITY: i64 = 1_000_000;
/// Levels an owner may have.
pub const LEVELS: &[&str] = &[
    "pusat",
    "provinsi",
    "instansi-vertikal",
    "bumn",
    "bumd",
    "lembaga-independen",
    "swasta",
];
/// Confidence values of a source.
pub const CONFIDENCE: &[&str] = &["tinggi", "sedang", "rendah"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    urusan: Vec<RawMatter>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatter {
    id: Spanned<String>,
    pemilik: Spanned<String>,
    tingkat: Spanned<String>,
    saran: Option<Spanned<String>>,
    sumber: Option<Spanned<String>>,
    keyakinan: Option<Spanned<String>>,
    #[serde(default)]
    keywords_any: Vec<Spanned<String>>,
    #[serde(default)]
    context_any: Vec<Spanned<String>>,
    #[serde(default)]
    keywords_none: Vec<Spanned<String>>,
}

/// One matter outside the regency's authority, as compiled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Matter {
    pub id: String,
    /// The institution that owns the matter.
    pub owner: String,
    pub level: String,
    /// The suggested action shown to the administrator.
    pub suggestion: String,
    pub source: Option<String>,
    pub confidence: Option<String>,
}

fn err(diags: &mut Vec<Diagnostic>, s: &SourceFile, span: Range<usize>, msg: String, hint: &str) {
    diags.push(Diagnostic::error(&s.path, &s.text, Some(span), msg, hint));
}

/// Parses and checks `kewenangan.toml`, compiling every matter into a rule (phrases go
/// into `lex`). Errors point at the value (file:line:col).
pub fn compile(
    src: &SourceFile,
    file: usize,
    lex: &mut Lexicon,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(Rule, Matter)> {
    let parsed: File = match toml::from_str(&src.text) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::from_toml(&src.path, &src.text, &e));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in parsed.urusan {
        let id = m.id.get_ref().trim().to_string();
        if id.is_empty() || id.contains(char::is_whitespace) {
            err(
                diags,
                src,
                m.id.span(),
                format!("'{id}' is not a usable id"),
                "give every urusan a short id without spaces, e.g. pln-listrik-rumah",
            );
        }
        if let Some(first) = seen.get(&id) {
            let line = src.text[..*first].matches('\n').count() + 1;
            err(
                diags,
                src,
                m.id.span(),
                format!("duplicate urusan id '{id}' (first at line {line})"),
                "ids name the matter in the routing record (kewenangan:<id>); use another id",
            );
        } else {
            seen.insert(id.clone(), m.id.span().start);
        }
        let owner = m.pemilik.get_ref().trim().to_string();
        if owner.is_empty() {
            err(
                diags,
                src,
                m.pemilik.span(),
                "pemilik is empty".into(),
                "name the institution that owns the matter, e.g. \"PLN UP3 Wates\"",
            );
        }
        let level = m.tingkat.get_ref().trim().to_lowercase();
        if !LEVELS.contains(&level.as_str()) {
            err(
                diags,
                src,
                m.tingkat.span(),
                format!("unknown tingkat '{level}'"),
                &format!("use one of {}", LEVELS.join(", ")),
            );
        }
        if let Some(k) = &m.keyakinan
            && !CONFIDENCE.contains(&k.get_ref().trim())
        {
            err(
                diags,
                src,
                k.span(),
                format!("unknown keyakinan '{}'", k.get_ref().trim()),
                "use tinggi, sedang or rendah",
            );
        }
        if m.keywords_any.is_empty() {
            err(
                diags,
                src,
                m.id.span(),
                format!("urusan '{id}' has no keywords_any"),
                "list the words that identify the matter (names of roads, institutions, permits)",
            );
        }
        let mut phrases = |items: &[Spanned<String>], diags: &mut Vec<Diagnostic>| {
            let mut ids = Vec::new();
            for k in items {
                match lex.add(k.get_ref()) {
                    Ok(p) => {
                        if !ids.contains(&p) {
                            ids.push(p);
                        }
                    }
                    Err(why) => err(
                        diags,
                        src,
                        k.span(),
                        format!("unusable keyword: {why}"),
                        "write one or more whole words; end a word with * to match words that start with it",
                    ),
                }
            }
            ids
        };
        let any = phrases(&m.keywords_any, diags);
        let context = phrases(&m.context_any, diags);
        let none = phrases(&m.keywords_none, diags);
        let suggestion = m
            .saran
            .as_ref()
            .map(|s| s.get_ref().trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("Bukan Wewenang: milik {owner}"));
        let rule = Rule {
            id: format!("{RULE_PREFIX}{id}"),
            description: format!("Bukan wewenang Pemkab ({level}): {owner}"),
            target: Target::Opd(TRIAGE.to_string()),
            priority: PRIORITY,
            file,
            span: m.id.span(),
            index: 0,
            conds: Vec::new(),
            topics: Vec::new(),
            klasifikasi: Vec::new(),
            tags: Vec::new(),
            locations: Vec::new(),
            channels: Vec::new(),
            title_any: Vec::new(),
            any,
            all: Vec::new(),
            none,
            context,
            advice: Some(suggestion.clone()),
        };
        out.push((
            rule,
            Matter {
                id,
                owner,
                level,
                suggestion,
                source: m.sumber.map(|s| s.get_ref().trim().to_string()),
                confidence: m.keyakinan.map(|s| s.get_ref().trim().to_string()),
            },
        ));
    }
    out
}

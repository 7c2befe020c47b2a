//! The mappings a run routes with, across processes.
//!
//! Each run of `sp4n pull`, `sync` or `run` reads the files in `mappings/` and checks
//! them against the platform's vocabulary kept in the store ([`super::vocabulary`]). When
//! they are valid they route, and their text is remembered in the store as the last valid revision.
//! When an administrator's edit is invalid, the run keeps routing with that remembered
//! revision and carries the errors into its report: a bad edit never stops the sync, even
//! between separate one-shot runs.

use super::vocabulary::Vocabulary;
use super::{Mappings, SourceFile, TRIAGE, read_sources, today_wib};
use crate::diag::Diagnostic;
use crate::model::{Complaint, Topic};
use crate::pull::{RouteDecision, Router};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const META_VALID_SOURCES: &[u8] = b"mapping_valid_sources";
/// The topic tree the remembered revision was valid against (absent: the example tree).
const META_VALID_TOPICS: &[u8] = b"mapping_valid_topics";

/// The mappings in force for one run.
#[derive(Debug, Clone)]
pub struct Active {
    pub mappings: Arc<Mappings>,
    /// Warnings of the revision in force.
    pub warnings: Vec<Diagnostic>,
    /// The errors of the files on disk when they are invalid (the remembered revision
    /// routes instead).
    pub rejected: Option<Vec<Diagnostic>>,
    /// When the platform's vocabulary the files were checked against was read; `None`:
    /// never, the example tree was used ([`super::vocabulary::NOT_FETCHED`]).
    pub vocabulary_fetched: Option<DateTime<Utc>>,
}

/// Why no mappings could be put in force.
#[derive(Debug, thiserror::Error)]
pub enum ActiveError {
    #[error("{}", crate::diag::render_all(.0))]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks sources against the vocabulary: topics by the platform's tree, and (when the
/// vocabulary was fetched) every unit id in force known and active upstream.
pub fn check_against(
    sources: Vec<SourceFile>,
    vocab: Option<&Vocabulary>,
) -> Result<(Mappings, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (m, warnings) = Mappings::from_sources(sources, vocab.map(|v| v.topics.as_slice()))?;
    if let Some(v) = vocab {
        let errors = m.check_units(&v.units, today_wib());
        if errors.iter().any(Diagnostic::is_error) {
            return Err(errors.into_iter().chain(warnings).collect());
        }
    }
    Ok((m, warnings))
}

/// Reads `dir` and checks it against the platform's vocabulary stored in `store` (the
/// example tree before the first fetch); remembers a valid revision in `store`, or falls
/// back to the one remembered there, with the vocabulary it was valid against, when the
/// files are invalid (an edit, or a change upstream that a rule or an OPD entry no longer
/// matches). Fails only when the files are invalid and no valid revision was ever seen.
pub fn load_active(dir: &Path, store: &Store) -> Result<Active, ActiveError> {
    let vocab = super::vocabulary::stored(store)?;
    let vocabulary_fetched = vocab.as_ref().map(|v| v.fetched_at);
    let loaded = read_sources(dir).and_then(|s| {
        let texts: Vec<(PathBuf, String)> =
            s.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
        check_against(s, vocab.as_ref()).map(|(m, w)| (m, w, texts))
    });
    match loaded {
        Ok((m, warnings, texts)) => {
            let remembered: Option<Vec<(PathBuf, String)>> = store.get_meta(META_VALID_SOURCES)?;
            if remembered.as_ref() != Some(&texts) {
                store.put_meta(META_VALID_SOURCES, &texts)?;
            }
            let topics = vocab.as_ref().map(|v| v.topics.clone());
            let remembered_topics: Option<Vec<Topic>> = store.get_meta(META_VALID_TOPICS)?;
            if topics.is_some() && remembered_topics != topics {
                store.put_meta(META_VALID_TOPICS, &topics)?;
            }
            store.set_mapping_revision(m.revision())?;
            let m = m.with_history(history_of(store)?);
            Ok(Active {
                mappings: Arc::new(m),
                warnings,
                rejected: None,
                vocabulary_fetched,
            })
        }
        Err(errors) => {
            let remembered: Option<Vec<(PathBuf, String)>> = store.get_meta(META_VALID_SOURCES)?;
            let Some(texts) = remembered else {
                return Err(ActiveError::Invalid(errors));
            };
            let topics: Option<Vec<Topic>> = store.get_meta(META_VALID_TOPICS)?;
            let sources = texts
                .into_iter()
                .map(|(path, text)| SourceFile { path, text })
                .collect();
            match Mappings::from_sources(sources, topics.as_deref()) {
                Ok((m, warnings)) => Ok(Active {
                    mappings: Arc::new(m.with_history(history_of(store)?)),
                    warnings,
                    rejected: Some(errors),
                    vocabulary_fetched,
                }),
                Err(_) => Err(ActiveError::Invalid(errors)),
            }
        }
    }
}

/// The complaints of `store` whose OPD a person or the platform chose, or whose
/// disposition was confirmed upstream: the examples of [`super::history::History`]. The
/// triage desk itself is never an example, nor is a confidential (rahasia) complaint,
/// whose title would otherwise be shown with others.
pub fn history_of(store: &Store) -> Result<super::history::History, StoreError> {
    use crate::store::RoutedBy;
    let mut picked: Vec<(Complaint, String)> = Vec::new();
    store.for_each_complaint(|s| {
        if let Some(r) = &s.routing
            && r.opd != TRIAGE
            && !s.complaint.rahasia
            && (s.disposed_at.is_some() || r.by != RoutedBy::Rules)
        {
            picked.push((s.complaint, r.opd.clone()));
        }
        true
    })?;
    Ok(super::history::History::new(
        picked.iter().map(|(c, o)| (c, o.clone())),
    ))
}

/// Routes new complaints for the pull stage with compiled mappings.
#[derive(Debug, Clone)]
pub struct MappingRouter(pub Arc<Mappings>);

impl Router for MappingRouter {
    fn route(&self, c: &Complaint) -> RouteDecision {
        let r = self.0.route(c, today_wib());
        RouteDecision {
            opd: r.opd,
            rule_id: r.rule_id,
        }
    }

    fn revision(&self) -> String {
        self.0.revision().to_string()
    }

    fn opd_for_unit(&self, unit_id: &str) -> Option<String> {
        self.0
            .opd_by_unit(unit_id, today_wib())
            .map(|o| o.code.clone())
    }

    fn unit_for_opd(&self, opd: &str) -> Option<String> {
        if opd == TRIAGE {
            return None;
        }
        self.0
            .opd_on(opd, today_wib())
            .and_then(|o| o.unit_id.clone())
    }
}

/// The mapping files shipped in `mappings/`, built into the binary: what `sp4n demo` routes
/// with when no configuration is given.
pub fn embedded() -> Mappings {
    let sources = vec![
        SourceFile {
            path: PathBuf::from("mappings/opd.toml"),
            text: include_str!("../../mappings/opd.toml").to_string(),
        },
        SourceFile {
            path: PathBuf::from("mappings/rules.toml"),
            text: include_str!("../../mappings/rules.toml").to_string(),
        },
        SourceFile {
            path: PathBuf::from("mappings/kewenangan.toml"),
            text: include_str!("../../mappings/kewenangan.toml").to_string(),
        },
    ];
    match Mappings::from_sources(sources, None) {
        Ok((m, _)) => m,
        // The shipped files are checked by tests/mapping_shipped.rs.
        Err(d) => panic!(
            "the shipped mapping files are invalid:\n{}",
            crate::diag::render_all(&d)
        ),
    }
}

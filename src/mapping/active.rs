//! The mappings a run routes with, across processes.
//!
//! Each run of `sp4n pull`, `sync` or `run` reads the files in `mappings/`. When they are
//! valid they route, and their text is remembered in the store as the last valid revision.
//! When an administrator's edit is invalid, the run keeps routing with that remembered
//! revision and carries the errors into its report: a bad edit never stops the sync, even
//! between separate one-shot runs.

use super::{Mappings, SourceFile, TRIAGE, read_sources, today_wib};
use crate::diag::Diagnostic;
use crate::model::Complaint;
use crate::pull::{RouteDecision, Router};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const META_VALID_SOURCES: &[u8] = b"mapping_valid_sources";

/// The mappings in force for one run.
#[derive(Debug, Clone)]
pub struct Active {
    pub mappings: Arc<Mappings>,
    /// Warnings of the revision in force.
    pub warnings: Vec<Diagnostic>,
    /// The errors of the files on disk when they are invalid (the remembered revision
    /// routes instead).
    pub rejected: Option<Vec<Diagnostic>>,
}

/// Why no mappings could be put in force.
#[derive(Debug, thiserror::Error)]
pub enum ActiveError {
    #[error("{}", crate::diag::render_all(.0))]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `dir`; remembers a valid revision in `store`, or falls back to the one
/// remembered there when the files are invalid. Fails only when the files are invalid and
/// no valid revision was ever seen.
pub fn load_active(dir: &Path, store: &Store) -> Result<Active, ActiveError> {
    let loaded = read_sources(dir).and_then(|s| {
        let texts: Vec<(PathBuf, String)> =
            s.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
        Mappings::from_sources(s, None).map(|(m, w)| (m, w, texts))
    });
    match loaded {
        Ok((m, warnings, texts)) => {
            let remembered: Option<Vec<(PathBuf, String)>> = store.get_meta(META_VALID_SOURCES)?;
            if remembered.as_ref() != Some(&texts) {
                store.put_meta(META_VALID_SOURCES, &texts)?;
            }
            store.set_mapping_revision(m.revision())?;
            Ok(Active {
                mappings: Arc::new(m),
                warnings,
                rejected: None,
            })
        }
        Err(errors) => {
            let remembered: Option<Vec<(PathBuf, String)>> = store.get_meta(META_VALID_SOURCES)?;
            let Some(texts) = remembered else {
                return Err(ActiveError::Invalid(errors));
            };
            let sources = texts
                .into_iter()
                .map(|(path, text)| SourceFile { path, text })
                .collect();
            match Mappings::from_sources(sources, None) {
                Ok((m, warnings)) => Ok(Active {
                    mappings: Arc::new(m),
                    warnings,
                    rejected: Some(errors),
                }),
                Err(_) => Err(ActiveError::Invalid(errors)),
            }
        }
    }
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

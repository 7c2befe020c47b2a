//! Keeping the mappings current without ever stopping the sync: re-read the files when
//! their bytes changed, switch to the new revision only when it is valid, and otherwise
//! keep routing with the last valid one and hand back the errors for the log and the run
//! report.

use super::Mappings;
use super::load::{build, read_sources, revision_of};
use crate::diag::Diagnostic;
use crate::model::Topic;
use std::path::Path;
use std::sync::Arc;

/// What a reload did.
#[derive(Debug, Clone)]
pub enum ReloadOutcome {
    /// The files are byte-for-byte what was last read.
    Unchanged,
    /// A new valid revision is active.
    Loaded {
        revision: String,
        warnings: Vec<Diagnostic>,
    },
    /// The edit is invalid; `kept` is the revision still routing (`None` if no valid
    /// revision was ever loaded).
    Rejected {
        errors: Vec<Diagnostic>,
        kept: Option<String>,
    },
}

/// The last valid mappings and the fingerprint of the files last read.
#[derive(Debug, Default)]
pub struct MappingState {
    current: Option<Arc<Mappings>>,
    seen: Option<String>,
    rejected: Option<Vec<Diagnostic>>,
    topics: Option<Vec<Topic>>,
}

impl MappingState {
    pub fn new() -> MappingState {
        MappingState::default()
    }

    /// Checks topics against the platform's tree from now on; the files are checked
    /// again at the next reload even when their bytes did not change.
    pub fn set_topics(&mut self, topics: Vec<Topic>) {
        if self.topics.as_ref() != Some(&topics) {
            self.seen = None;
        }
        self.topics = Some(topics);
    }

    /// [`MappingState::set_topics`] with the tree of a fetched vocabulary.
    pub fn set_vocabulary(&mut self, v: &super::vocabulary::Vocabulary) {
        self.set_topics(v.topics.clone());
    }

    /// The mappings routing now, if any valid revision was loaded.
    pub fn current(&self) -> Option<Arc<Mappings>> {
        self.current.clone()
    }

    /// The errors of the current files when they are invalid (for run reports).
    pub fn pending_errors(&self) -> Option<&[Diagnostic]> {
        self.rejected.as_deref()
    }

    /// Re-reads `dir` when its files changed since the last read.
    pub fn reload_if_changed(&mut self, dir: &Path) -> ReloadOutcome {
        let sources = match read_sources(dir) {
            Ok(s) => s,
            Err(errors) => {
                // Unreadable files: nothing to compare; keep what routes now.
                self.seen = None;
                self.rejected = Some(errors.clone());
                return ReloadOutcome::Rejected {
                    errors,
                    kept: self.current.as_ref().map(|m| m.revision().to_string()),
                };
            }
        };
        let fingerprint = revision_of(&sources);
        if self.seen.as_deref() == Some(fingerprint.as_str()) {
            return ReloadOutcome::Unchanged;
        }
        self.seen = Some(fingerprint);
        match build(sources, self.topics.as_deref()) {
            Ok((m, warnings)) => {
                let revision = m.revision().to_string();
                self.current = Some(Arc::new(m));
                self.rejected = None;
                ReloadOutcome::Loaded { revision, warnings }
            }
            Err(errors) => {
                self.rejected = Some(errors.clone());
                ReloadOutcome::Rejected {
                    errors,
                    kept: self.current.as_ref().map(|m| m.revision().to_string()),
                }
            }
        }
    }
}

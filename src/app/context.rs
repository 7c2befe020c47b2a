//! From a configuration to what a job needs: the store, the platform client, the mappings
//! in force and the platform's vocabulary. The command line, the agent and the API take
//! these from here, so that every job routes with the same revision and the same topics.

use super::AppError;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::mapping::vocabulary::{self, Change, Vocabulary, VocabularyError};
use crate::mapping::{Active, ActiveError, Mappings};
use crate::store::Store;
use crate::upstream::Client;
use std::path::Path;

/// Opens the store at `path` on a blocking thread.
pub async fn open_store(path: &Path) -> Result<Store, AppError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|e| AppError::Io(format!("opening the store failed: {e}")))?
        .map_err(AppError::from)
}

/// The platform client of `[upstream]`, with its token.
pub fn client(cfg: &Config) -> Result<Client, AppError> {
    let token =
        crate::upstream::Token::load(&cfg.upstream).map_err(|e| AppError::Config(e.to_string()))?;
    Client::new(&cfg.upstream, token)
        .map_err(|e| AppError::Config(format!("{e}; {}", e.guidance())))
}

/// The mappings in force: the files of `[mappings] dir`, or the last valid revision
/// remembered in the store when an edit made them invalid (their errors are in
/// `rejected`). Invalid files with no valid revision ever seen: [`AppError::NoValidMappings`].
pub async fn active_mappings(cfg: &Config, store: &Store) -> Result<Active, AppError> {
    let dir = cfg.mappings.dir.clone();
    store
        .run(move |s| crate::mapping::load_active(&dir, s))
        .await
        .map_err(|e| match e {
            ActiveError::Store(e) => e.into(),
            ActiveError::Invalid(d) => AppError::NoValidMappings(d),
        })
}

/// The mapping files of `[mappings] dir`, checked against the platform's vocabulary kept
/// in the store, for a local decision that needs them valid (no fallback).
pub async fn checked_mappings(cfg: &Config, store: &Store) -> Result<Mappings, AppError> {
    let vocab = store.run(vocabulary::stored).await?;
    crate::mapping::read_sources(&cfg.mappings.dir)
        .and_then(|s| crate::mapping::check_against(s, vocab.as_ref()))
        .map(|(m, _warnings)| m)
        .map_err(|diags| {
            AppError::Config(format!(
                "the mapping files in {} are invalid:\n{}",
                cfg.mappings.dir.display(),
                crate::diag::render_all(&diags)
            ))
        })
}

/// Reads the platform's topics and units when they are due (never read, or a day old)
/// or when `force`, keeping them in the store: every check and route after this uses
/// them. Returns one report line per change upstream; a failure is a line too (the
/// vocabulary read before keeps serving, and the pull reports the platform's problem).
pub async fn refresh_vocabulary(
    store: &Store,
    client: &Client,
    force: bool,
) -> Result<Vec<String>, AppError> {
    match vocabulary::refresh(store, client, chrono::Utc::now(), force).await {
        Ok(Some(r)) => {
            if r.first {
                tracing::info!(
                    topics = r.vocabulary.topics.len(),
                    units = r.vocabulary.units.len(),
                    "Read the platform's topics and units for the first time."
                );
            }
            Ok(change_notes(&r.changes))
        }
        Ok(None) => Ok(Vec::new()),
        Err(VocabularyError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "Could not read the platform's topics and units.");
            Ok(vec![format!(
                "platform: the topics and units could not be read ({e}); the ones read before keep serving"
            )])
        }
    }
}

/// Report lines for changes in the platform's vocabulary (Bahasa Indonesia).
pub fn change_notes(changes: &[Change]) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    let mut notes: Vec<String> = changes.iter().map(|c| format!("platform: {c}")).collect();
    notes.push(
        "platform: kosakata platform berubah; jalankan `sp4n mappings check` (aturan yang menyebut topik/unit yang hilang ditolak, revisi valid terakhir tetap dipakai) dan `sp4n mappings adopt` untuk usulan perbaikan".into(),
    );
    notes
}

/// One report line per error of a rejected mapping edit.
pub fn rejected_notes(rejected: Option<&[Diagnostic]>) -> Vec<String> {
    rejected
        .unwrap_or_default()
        .iter()
        .map(|d| {
            format!(
                "mapping: {}:{}:{}: {} (the last valid revision keeps routing)",
                d.file.display(),
                d.line,
                d.column,
                d.message
            )
        })
        .collect()
}

/// Asks the platform for its topics and units now (gettopics, getunits).
pub async fn fetch_vocabulary(cfg: &Config) -> Result<Vocabulary, AppError> {
    let client = client(cfg)?;
    vocabulary::fetch(&client, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            VocabularyError::Upstream { what, source } => AppError::Upstream {
                what: format!("{what} failed"),
                source,
            },
            VocabularyError::Store(e) => e.into(),
        })
}

/// The platform's vocabulary kept in the store of `cfg`. [`AppError::Refused`] says why
/// there is none to read (no configuration, no store yet, never read).
pub async fn stored_vocabulary(cfg: Option<&Config>) -> Result<Vocabulary, AppError> {
    let Some(cfg) = cfg else {
        return Err(AppError::Refused(
            "no configuration, so no store to read it from".into(),
        ));
    };
    let path = cfg.store_path();
    if !path.exists() {
        return Err(AppError::Refused(format!(
            "the store {} does not exist yet",
            path.display()
        )));
    }
    let store = open_store(&path).await?;
    store
        .run(vocabulary::stored)
        .await?
        .ok_or_else(|| AppError::Refused("no pull has read them yet".into()))
}

/// Keeps a vocabulary read on demand in the store, when the store can be opened (a
/// running agent holds it: then the next pull reads it anyway). The changes it found.
pub async fn keep_vocabulary(cfg: &Config, v: &Vocabulary) -> Vec<Change> {
    let Ok(store) = open_store(&cfg.store_path()).await else {
        return Vec::new();
    };
    let v = v.clone();
    match store.run(move |s| vocabulary::record(s, v)).await {
        Ok(r) => r.changes,
        Err(e) => {
            tracing::warn!(error = %e, "Could not keep the platform's vocabulary in the store.");
            Vec::new()
        }
    }
}

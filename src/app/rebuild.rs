//! `sp4n store rebuild`'s work: recovery from a damaged store without losing what exists
//! only locally. [`set_aside`] exports unfinished outbox entries, routing decisions by
//! people and triage notes to a JSON file beside the store (when the old store is still
//! readable) and moves the store aside, never deleting it; after everything was pulled
//! again into a fresh store, [`restore`] puts the exported data back, outbox entries with
//! their refs and states so that nothing is sent twice.

use super::AppError;
use crate::config::Config;
use crate::store::{EventKind, NewOutboxEntry, RoutedBy, Store, StoreError};
use std::path::{Path, PathBuf};

/// What a rebuild exports from the old store.
#[derive(Debug, serde::Serialize)]
pub struct Export {
    pub store: PathBuf,
    pub outbox_unfinished: Vec<crate::store::OutboxEntry>,
    pub routings: Vec<(crate::model::TrackingId, crate::store::Routing)>,
    pub triage: Vec<crate::store::Event>,
    pub errors: Vec<String>,
}

/// Reads what exists only locally; best effort (every failure is listed in `errors`).
pub fn export(store: &Store) -> Export {
    let mut ex = Export {
        store: store.path().to_path_buf(),
        outbox_unfinished: Vec::new(),
        routings: Vec::new(),
        triage: Vec::new(),
        errors: Vec::new(),
    };
    match store.outbox_unfinished() {
        Ok(v) => ex.outbox_unfinished = v,
        Err(e) => ex.errors.push(format!("outbox: {e}")),
    }
    let mut ids = Vec::new();
    if let Err(e) = store.for_each_complaint(|c| {
        if let Some(r) = &c.routing {
            ex.routings.push((c.tracking_id(), r.clone()));
        }
        ids.push(c.tracking_id());
        true
    }) {
        ex.errors.push(format!("complaints: {e}"));
    }
    for id in ids {
        match store.events(id) {
            Ok(evs) => ex.triage.extend(evs.into_iter().filter(|e| {
                matches!(e.kind, EventKind::TriageAssigned { .. })
                    || matches!(&e.kind, EventKind::Rerouted { by, .. } if by != "upstream")
            })),
            Err(e) => ex.errors.push(format!("history of {id}: {e}")),
        }
    }
    ex
}

/// What a rebuild put back into the new store from the export.
#[derive(Debug, Default, serde::Serialize)]
pub struct Restored {
    /// Routing decisions taken by a person or followed from upstream.
    pub routings: usize,
    /// Triage notes and reroutes by a person, with their original times.
    pub history_events: usize,
    /// Unfinished outbox entries, with their refs, states and attempts.
    pub outbox_entries: usize,
    /// Complaints of the export that the new pull did not bring (their routing and notes
    /// stay only in the export file).
    pub missing: Vec<crate::model::TrackingId>,
}

/// Puts the exported local-only data into the rebuilt store. Outbox entries keep their
/// `ref`, state and `outcome_unknown` flag, so an entry whose answer was lost is read back
/// before it is sent again, exactly as in the old store.
pub fn restore(store: &Store, ex: &Export) -> Result<Restored, StoreError> {
    let mut r = Restored::default();
    for (id, routing) in &ex.routings {
        // The rules and the platform's unit route again on the fresh pull: only decisions
        // that exist nowhere else (people, the national admin's re-disposition) come back.
        if matches!(routing.by, RoutedBy::Rules | RoutedBy::Platform) {
            continue;
        }
        let restored = store.update_complaint(
            *id,
            |c| {
                c.routing = Some(routing.clone());
                Ok(vec![])
            },
            vec![],
        )?;
        match restored {
            Some(_) => r.routings += 1,
            None => r.missing.push(*id),
        }
    }
    let mut present = std::collections::HashMap::new();
    let mut events = Vec::new();
    for e in &ex.triage {
        let here = match present.get(&e.tracking_id) {
            Some(&here) => here,
            None => {
                let here = store.complaint_hash(e.tracking_id)?.is_some();
                present.insert(e.tracking_id, here);
                here
            }
        };
        if here {
            events.push(e.clone());
        } else {
            r.missing.push(e.tracking_id);
        }
    }
    store.restore_events(&events)?;
    r.history_events = events.len();
    let fresh = store.enqueue(
        ex.outbox_unfinished
            .iter()
            .map(|e| NewOutboxEntry {
                opd: e.opd.clone(),
                requested_by: e.requested_by.clone(),
                request: e.request.clone(),
            })
            .collect(),
    )?;
    for (old, mut entry) in ex.outbox_unfinished.iter().zip(fresh) {
        entry.requested_at = old.requested_at;
        entry.state = old.state.clone();
        entry.attempts = old.attempts;
        entry.last_error = old.last_error.clone();
        entry.outcome_unknown = old.outcome_unknown;
        store.update_entry(&entry)?;
        r.outbox_entries += 1;
    }
    r.missing.sort_unstable();
    r.missing.dedup();
    Ok(r)
}

/// `<store><infix><stamp>[-n]<ext>` beside the store, a name not taken yet (two rebuilds
/// within one second must not collide).
fn sibling(path: &Path, infix: &str, stamp: &str, ext: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sp4n-store".into());
    let mut n = 0;
    loop {
        let extra = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let p = path.with_file_name(format!("{name}{infix}{stamp}{extra}{ext}"));
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

/// The old store moved aside: what was exported (and where), where it went.
#[derive(Debug)]
pub struct SetAside {
    /// One line for people: what was exported to which file, or why nothing could be.
    pub export_note: String,
    /// The export, to restore into the new store.
    pub exported: Option<Export>,
    /// Where the old store now is.
    pub aside: PathBuf,
}

/// Exports what exists only locally from the store of `cfg` (when it is readable) to
/// `<store>.export-<time>.json`, then moves the store to `<store>.damaged-<time>`. A store
/// locked by another process is left alone.
pub async fn set_aside(cfg: &Config) -> Result<SetAside, AppError> {
    let path = cfg.store_path();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let p = path.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open(&p))
        .await
        .map_err(|e| AppError::Io(e.to_string()))?;
    let (export_note, exported) = match opened {
        Err(e @ StoreError::Locked { .. }) => return Err(e.into()),
        Ok(old) => {
            let ex = tokio::task::spawn_blocking(move || export(&old))
                .await
                .map_err(|e| AppError::Io(e.to_string()))?;
            let file = sibling(&path, ".export-", &stamp, ".json");
            let text =
                serde_json::to_string_pretty(&ex).map_err(|e| AppError::Io(e.to_string()))?;
            std::fs::write(&file, text).map_err(|e| {
                AppError::Io(format!(
                    "cannot write the export {}: {e}; nothing was moved",
                    file.display()
                ))
            })?;
            let note = format!(
                "exported {} unfinished outbox entries, {} routing decisions and {} triage notes to {}",
                ex.outbox_unfinished.len(),
                ex.routings.len(),
                ex.triage.len(),
                file.display()
            );
            (note, Some(ex))
        }
        Err(e) => (
            format!("the old store could not be read ({e}); nothing could be exported"),
            None,
        ),
    };
    let aside = sibling(&path, ".damaged-", &stamp, "");
    if path.exists() {
        std::fs::rename(&path, &aside).map_err(|e| {
            AppError::Io(format!(
                "cannot move {} aside to {}: {e}",
                path.display(),
                aside.display()
            ))
        })?;
    }
    Ok(SetAside {
        export_note,
        exported,
        aside,
    })
}

//! `sp4n store rebuild`: recovery from a damaged store; `sp4n store compact`: reclaims
//! the room superseded complaint records take in the value log.
//!
//! Moves the store aside (never deletes it), exports first what exists only locally —
//! unfinished outbox entries, routing decisions, triage notes — to a JSON file when the old
//! store is still readable, then pulls everything again into a fresh store and puts the
//! exported data back into it.

use super::{CliError, Ctx, EXIT_STORE};
use crate::pull::{Mode, PullOptions};
use crate::store::{EventKind, NewOutboxEntry, RoutedBy, Store, StoreError};
use crate::upstream::Client;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum StoreCmd {
    /// Move the store aside, export local-only data, pull everything again, put the data back.
    #[command(
        after_help = "Example:\n  sp4n store rebuild\n\nThe old store is kept as <store>.damaged-<time>; the export is <store>.export-<time>.json. Routing decisions by people, triage notes and unfinished outbox entries (with their refs, so nothing is sent twice) are put back into the new store; anything that could not be is named, and stays in the export."
    )]
    Rebuild,
    /// Reclaim the room of superseded complaint records now.
    #[command(
        after_help = "Example:\n  sp4n store compact\n\nPulls compact on their own when superseded records outgrow the live ones (and take 32 MiB); this command does it at once. Safe to interrupt: the store stays readable."
    )]
    Compact,
}

pub async fn run(ctx: &Ctx, cmd: StoreCmd) -> Result<i32, CliError> {
    match cmd {
        StoreCmd::Rebuild => rebuild(ctx).await,
        StoreCmd::Compact => compact(ctx).await,
    }
}

/// What `store compact` reports.
#[derive(Debug, serde::Serialize)]
struct Compacted {
    value_log_bytes_before: u64,
    value_log_bytes_after: u64,
    reclaimed_bytes: u64,
}

async fn compact(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let store = ctx.open_store(&cfg).await?;
    let (before, reclaimed) = store
        .run(|s| {
            let (before, _) = s.value_log_usage()?;
            Ok::<_, StoreError>((before, s.compact(true)?.unwrap_or(0)))
        })
        .await?;
    let out = Compacted {
        value_log_bytes_before: before,
        value_log_bytes_after: before - reclaimed,
        reclaimed_bytes: reclaimed,
    };
    if ctx.json {
        ctx.print_json(&out)?;
    } else {
        use crate::report::status::human_bytes;
        println!(
            "compacted the value log: {} -> {} ({} reclaimed)",
            human_bytes(out.value_log_bytes_before),
            human_bytes(out.value_log_bytes_after),
            human_bytes(out.reclaimed_bytes)
        );
    }
    Ok(0)
}

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
        // The rules and the platform's own unit route a complaint again on the new pull.
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

async fn rebuild(ctx: &Ctx) -> Result<i32, CliError> {
    let cfg = ctx.config()?;
    let path = cfg.store_path();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let p = path.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open(&p))
        .await
        .map_err(|e| CliError::new(EXIT_STORE, e.to_string()))?;
    let (export_note, exported) = match opened {
        Err(e @ StoreError::Locked { .. }) => return Err(e.into()),
        Ok(old) => {
            let ex = tokio::task::spawn_blocking(move || export(&old))
                .await
                .map_err(|e| CliError::new(EXIT_STORE, e.to_string()))?;
            let file = sibling(&path, ".export-", &stamp, ".json");
            let text = serde_json::to_string_pretty(&ex)
                .map_err(|e| CliError::new(EXIT_STORE, e.to_string()))?;
            std::fs::write(&file, text).map_err(|e| {
                CliError::new(
                    EXIT_STORE,
                    format!(
                        "cannot write the export {}: {e}; nothing was moved",
                        file.display()
                    ),
                )
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
            CliError::new(
                EXIT_STORE,
                format!(
                    "cannot move {} aside to {}: {e}",
                    path.display(),
                    aside.display()
                ),
            )
        })?;
    }
    eprintln!("{export_note}");
    eprintln!("moved the old store to {}", aside.display());
    let token = cfg
        .upstream
        .load_token()
        .map_err(|m| CliError::new(super::EXIT_CONFIG, m))?;
    let client = Client::new(&cfg.upstream, token)
        .map_err(|e| CliError::new(super::EXIT_CONFIG, format!("{e}; {}", e.guidance())))?;
    let store = ctx.open_store(&cfg).await?;
    let (router, rejected) = super::pull::router(&cfg, &store).await?;
    let mut opts = PullOptions::from_config(Mode::Reconcile, &cfg);
    opts.progress = !ctx.json;
    opts.notes = super::pull::rejected_notes(rejected.as_deref());
    let report = crate::pull::pull(&store, &client, router, &opts).await?;
    super::pull::print_report(ctx, &report)?;
    if let Some(ex) = exported {
        let r = store.run(move |s| restore(s, &ex)).await?;
        eprintln!(
            "restored {} routing decisions, {} triage notes and {} unfinished outbox entries",
            r.routings, r.history_events, r.outbox_entries
        );
        if !r.missing.is_empty() {
            eprintln!(
                "not in the new store yet (their routing and notes stay in the export): {}",
                r.missing
                    .iter()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(crate::pull::exit_code(&report))
}

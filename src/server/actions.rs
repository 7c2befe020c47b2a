//! What the API asks of the push outbox: validate a follow-up, a status change or a
//! disposition and queue it (flushed before returning), and retry or discard a held
//! entry. Authorization is decided by the caller (the handlers); these functions check
//! the request against the complaint and the OPD list.
//!
//! This is the thin seam between the API and the push stage: when the push stage offers
//! its own validate-and-enqueue functions, these delegate to them.

use crate::mapping::Mappings;
use crate::model::{Status, TrackingId};
use crate::push::policy;
use crate::store::{
    NewOutboxEntry, OutboxEntry, OutboxState, Store, StoreError, StoredComplaint, new_ref,
};
use crate::upstream::{WriteAction, WriteRequest};
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;

/// An OPD the API may act for: its upstream unit and whether pushes for it are allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpdUnit {
    pub unit_id: String,
    /// Valid today and not paused.
    pub active: bool,
}

/// The OPDs of the mapping files, by code (case-insensitive).
#[derive(Clone, Debug, Default)]
pub struct OpdDirectory {
    by_code: HashMap<String, OpdUnit>,
}

impl OpdDirectory {
    /// The OPDs of `mappings` with an upstream unit, active as of `day`.
    pub fn from_mappings(m: &Mappings, day: NaiveDate) -> OpdDirectory {
        let mut by_code = HashMap::new();
        for o in m.opds() {
            if let Some(unit) = &o.unit_id {
                let active = o.valid_on(day) && !o.paused;
                // An OPD may appear more than once over time; the entry valid today wins.
                let replace = by_code
                    .get(&o.code.to_ascii_uppercase())
                    .is_none_or(|e: &OpdUnit| !e.active);
                if replace {
                    by_code.insert(
                        o.code.to_ascii_uppercase(),
                        OpdUnit {
                            unit_id: unit.clone(),
                            active,
                        },
                    );
                }
            }
        }
        OpdDirectory { by_code }
    }

    /// A directory from `(code, unit id)` pairs, all active.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> OpdDirectory {
        OpdDirectory {
            by_code: pairs
                .into_iter()
                .map(|(c, u)| {
                    (
                        c.to_ascii_uppercase(),
                        OpdUnit {
                            unit_id: u.to_string(),
                            active: true,
                        },
                    )
                })
                .collect(),
        }
    }

    pub fn get(&self, code: &str) -> Option<&OpdUnit> {
        self.by_code.get(&code.to_ascii_uppercase())
    }

    /// The unit of an OPD the API may act for, or why not.
    fn active_unit(&self, code: &str) -> Result<&str, ActionError> {
        match self.get(code) {
            None => Err(ActionError::Invalid(format!(
                "'{code}' is not an OPD with an upstream unit in mappings/opd.toml: use one of its codes"
            ))),
            Some(u) if !u.active => Err(ActionError::Invalid(format!(
                "OPD '{code}' is paused or no longer valid in mappings/opd.toml: nothing is sent for it until it is active again"
            ))),
            Some(u) => Ok(&u.unit_id),
        }
    }
}

/// Why an action was not queued.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the complaint or the OPD list (nothing was queued).
    #[error("{0}")]
    Invalid(String),
    /// The entry is in a state that does not allow it.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn load(store: &Store, id: TrackingId) -> Result<StoredComplaint, ActionError> {
    store
        .get_complaint(id)?
        .ok_or_else(|| ActionError::NotFound(format!("complaint {id} is not in the local store")))
}

fn open_for_work(c: &StoredComplaint, what: &str) -> Result<(), ActionError> {
    let st = c.complaint.status;
    if policy::OPEN_FOR_WORK.contains(&st) {
        Ok(())
    } else {
        Err(ActionError::Invalid(format!(
            "the complaint is '{st}'; a {what} is accepted only while it is 'Belum Ditindaklanjuti' or 'Proses'"
        )))
    }
}

fn enqueue(
    store: &Store,
    opd: &str,
    by: &str,
    action: WriteAction,
) -> Result<OutboxEntry, ActionError> {
    let mut out = store.enqueue(vec![NewOutboxEntry {
        opd: opd.to_string(),
        requested_by: by.to_string(),
        request: WriteRequest {
            ref_: new_ref(),
            action,
        },
    }])?;
    out.pop()
        .ok_or_else(|| ActionError::Conflict("the store queued nothing".into()))
}

/// Queues a follow-up by `opd` (which must be the OPD the complaint is routed to).
pub fn queue_followup(
    store: &Store,
    opds: &OpdDirectory,
    id: TrackingId,
    opd: &str,
    text: &str,
    by: &str,
) -> Result<OutboxEntry, ActionError> {
    policy::check_text("follow-up text", text).map_err(ActionError::Invalid)?;
    let c = load(store, id)?;
    if !c.opd().eq_ignore_ascii_case(opd) {
        return Err(ActionError::Invalid(format!(
            "complaint {id} is routed to '{}', not '{opd}': only the routed OPD posts follow-ups",
            c.opd()
        )));
    }
    let unit = opds.active_unit(opd)?.to_string();
    open_for_work(&c, "follow-up")?;
    enqueue(
        store,
        c.opd(),
        by,
        WriteAction::TindakLanjut {
            tracking_id: id,
            unit,
            isi: text.to_string(),
        },
    )
}

/// Queues a status change with its reason.
pub fn queue_status(
    store: &Store,
    id: TrackingId,
    status: Status,
    reason: &str,
    by: &str,
) -> Result<OutboxEntry, ActionError> {
    policy::check_text("reason", reason).map_err(ActionError::Invalid)?;
    let c = load(store, id)?;
    policy::check_status_change(c.complaint.status, status).map_err(ActionError::Invalid)?;
    enqueue(
        store,
        c.opd(),
        by,
        WriteAction::SetStatus {
            tracking_id: id,
            nilai: status,
            alasan: reason.to_string(),
        },
    )
}

/// Queues a disposition of the complaint to `opd`'s upstream unit.
pub fn queue_disposition(
    store: &Store,
    opds: &OpdDirectory,
    id: TrackingId,
    opd: &str,
    note: &str,
    by: &str,
) -> Result<OutboxEntry, ActionError> {
    if !note.is_empty() {
        policy::check_text("note", note).map_err(ActionError::Invalid)?;
    }
    let c = load(store, id)?;
    let unit = opds.active_unit(opd)?.to_string();
    open_for_work(&c, "disposition")?;
    enqueue(
        store,
        &opd.to_ascii_uppercase(),
        by,
        WriteAction::Disposisi {
            tracking_id: id,
            unit,
            catatan: note.to_string(),
        },
    )
}

/// The entry `seq` if it is still pending or held; `why_not` ends the conflict message.
fn unfinished_entry(store: &Store, seq: u64, why_not: &str) -> Result<OutboxEntry, ActionError> {
    let e = store
        .outbox_entry(seq)?
        .ok_or_else(|| ActionError::NotFound(format!("outbox entry {seq} does not exist")))?;
    if e.state.is_finished() {
        return Err(ActionError::Conflict(format!(
            "outbox entry {seq} is already {}: {why_not}",
            e.state.name()
        )));
    }
    Ok(e)
}

/// Makes a held (or waiting) entry due now again.
pub fn retry_entry(store: &Store, seq: u64) -> Result<OutboxEntry, ActionError> {
    let mut e = unfinished_entry(store, seq, "there is nothing to retry")?;
    e.state = OutboxState::Pending;
    e.next_attempt_at = Utc::now();
    store.update_entry(&e)?;
    Ok(e)
}

/// Gives up an unfinished entry, recording why and who in the complaint's history.
pub fn discard_entry(
    store: &Store,
    seq: u64,
    reason: &str,
    by: &str,
) -> Result<OutboxEntry, ActionError> {
    policy::check_text("reason", reason).map_err(ActionError::Invalid)?;
    let mut e = unfinished_entry(store, seq, "it cannot be discarded")?;
    e.state = OutboxState::Discarded {
        reason: reason.to_string(),
        by: by.to_string(),
        at: Utc::now(),
    };
    store.update_entry(&e)?;
    Ok(e)
}

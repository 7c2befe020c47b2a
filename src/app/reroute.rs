//! Moving stored complaints with the mappings in force (`sp4n reroute`, `sp4n mappings
//! preview`): which complaints an edit would move, and one store update per moved
//! complaint recording who moved it (and, with `[mappings] auto_dispose`, queueing the
//! disposition to the new OPD's unit in the same update).
//!
//! Only complaints still in the stream and routed by the rules move with `--all`:
//! decisions taken by a person (triage, reroute) or following the national admin's
//! re-disposition stay. A tracking id named on its own moves whatever its routing.

use super::AppError;
use crate::config::Config;
use crate::mapping::{Mappings, Move, Route, TRIAGE, today_wib};
use crate::model::{Complaint, Status, TrackingId};
use crate::store::{
    EventKind, NewOutboxEntry, RoutedBy, Routing, Store, StoreError, StoredComplaint,
};
use serde::Serialize;
use std::sync::Arc;

/// The error for a tracking id the store does not hold.
pub fn unknown_complaint(id: TrackingId) -> AppError {
    AppError::Refused(format!(
        "complaint {id} is not in the local store: check the tracking id, or run `sp4n pull` first if it is new"
    ))
}

/// A complaint's stored routing as a [`Route`] (rule `-` when never routed).
pub fn stored_route(s: &StoredComplaint) -> Route {
    Route {
        opd: s.opd().to_string(),
        rule_id: s
            .routing
            .as_ref()
            .map_or_else(|| "-".to_string(), |r| r.rule_id.clone()),
    }
}

/// The complaints the rules may move: in the stream and routed by the rules (or never).
fn movable(s: &StoredComplaint) -> bool {
    s.in_stream
        && s.routing
            .as_ref()
            .is_none_or(|r| matches!(r.by, RoutedBy::Rules))
}

/// Re-routes the movable stored complaints with `m`; the ones whose OPD would change.
pub async fn moves(store: &Store, m: Arc<Mappings>) -> Result<Vec<Move>, AppError> {
    let on = today_wib();
    Ok(store
        .run(move |s| {
            let mut out = Vec::new();
            s.for_each_complaint(|rec| {
                if movable(&rec) {
                    let to = m.route(&rec.complaint, on);
                    if to.opd != rec.opd() {
                        out.push(Move {
                            tracking_id: rec.tracking_id(),
                            from: stored_route(&rec),
                            to,
                        });
                    }
                }
                true
            })?;
            Ok::<_, crate::store::StoreError>(out)
        })
        .await?)
}

/// The move of one named complaint, whatever its routing; `None` when `m` routes it
/// where it is.
pub async fn move_of(
    store: &Store,
    m: &Mappings,
    id: TrackingId,
) -> Result<Option<Move>, AppError> {
    let rec = store
        .run(move |s| s.get_complaint(id))
        .await?
        .ok_or_else(|| unknown_complaint(id))?;
    let to = m.route(&rec.complaint, today_wib());
    Ok((to.opd != rec.opd()).then(|| Move {
        tracking_id: id,
        from: stored_route(&rec),
        to,
    }))
}

/// How many moves go from one OPD to another.
#[derive(Debug, Serialize)]
pub struct PairCount {
    pub from: String,
    pub to: String,
    pub count: usize,
}

/// The moves counted per (from, to) pair, in order.
pub fn pair_counts(moves: &[Move]) -> Vec<PairCount> {
    let mut pairs: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for m in moves {
        *pairs
            .entry((m.from.opd.clone(), m.to.opd.clone()))
            .or_default() += 1;
    }
    pairs
        .into_iter()
        .map(|((from, to), count)| PairCount { from, to, count })
        .collect()
}

/// The disposition a reroute queues with auto_dispose: to the new OPD's unit, when the
/// complaint is open and not already at that unit.
fn auto_disposition(
    cfg: &Config,
    m: &Mappings,
    c: &Complaint,
    opd: &str,
    who: &str,
) -> Option<NewOutboxEntry> {
    if !cfg.mappings.auto_dispose || opd == TRIAGE {
        return None;
    }
    let unit = m.opd_on(opd, today_wib())?.unit_id.clone()?;
    let needed = matches!(c.status, Status::BelumDitindaklanjuti | Status::Proses)
        && c.unit.as_ref().is_none_or(|u| u.id != unit);
    needed.then(|| crate::push::input::auto_disposition(c.tracking_id, opd, unit, who))
}

/// One complaint moved.
#[derive(Debug, Serialize)]
pub struct Moved {
    pub tracking_id: TrackingId,
    pub from: String,
    pub to: String,
    pub rule_id: String,
    /// The `ref` of the disposition queued with it (auto_dispose).
    pub disposition_ref: Option<String>,
}

/// Moves one complaint from `mv.from` to `mv.to` in one store update, recorded as moved
/// by `who` (refused when someone moved it meanwhile).
pub async fn apply(
    store: &Store,
    cfg: &Config,
    m: &Mappings,
    mv: &Move,
    who: &str,
) -> Result<Moved, AppError> {
    let id = mv.tracking_id;
    let rec = store
        .run(move |s| s.get_complaint(id))
        .await?
        .ok_or_else(|| unknown_complaint(id))?;
    let outbox: Vec<NewOutboxEntry> = auto_disposition(cfg, m, &rec.complaint, &mv.to.opd, who)
        .into_iter()
        .collect();
    let disposition_ref = outbox.first().map(|e| e.request.ref_.clone());
    let (from, to, rule, rev, by) = (
        mv.from.opd.clone(),
        mv.to.opd.clone(),
        mv.to.rule_id.clone(),
        m.revision().to_string(),
        who.to_string(),
    );
    store
        .run(move |s| {
            s.update_complaint(
                id,
                |r| {
                    if r.opd() != from {
                        return Err(StoreError::Refused(format!(
                            "complaint {id} moved to {} meanwhile; run the command again",
                            r.opd()
                        )));
                    }
                    r.routing = Some(Routing {
                        opd: to.clone(),
                        rule_id: rule.clone(),
                        revision: rev.clone(),
                        routed_at: chrono::Utc::now(),
                        by: RoutedBy::Person(by.clone()),
                    });
                    Ok(vec![EventKind::Rerouted {
                        from: from.clone(),
                        to: to.clone(),
                        by: by.clone(),
                    }])
                },
                outbox,
            )
        })
        .await?
        .ok_or_else(|| unknown_complaint(id))?;
    Ok(Moved {
        tracking_id: id,
        from: mv.from.opd.clone(),
        to: mv.to.opd.clone(),
        rule_id: mv.to.rule_id.clone(),
        disposition_ref,
    })
}

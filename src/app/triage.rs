//! The triage desk (`ADMIN`): the open complaints no rule could route, and the
//! administrator's decision, recorded (who, when, note) as the complaint's routing with
//! the disposition to the chosen OPD's unit queued in the same store update, flushed
//! before it is reported.

use super::AppError;
use crate::mapping::{Mappings, TRIAGE};
use crate::model::{Status, TrackingId};
use crate::push::input::{DEFAULT_DISPOSITION_NOTE, InputError, OpdDirectory};
use crate::push::policy;
use crate::sla::Calendar;
use crate::store::{
    ComplaintFilter, EventKind, NewOutboxEntry, RoutedBy, Routing, Store, StoreError,
    StoredComplaint, new_ref,
};
use crate::upstream::{WriteAction, WriteRequest};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One complaint waiting at the triage desk.
#[derive(Debug, Serialize)]
pub struct Waiting {
    pub tracking_id: u64,
    pub first_seen: DateTime<Utc>,
    /// Working days since it was first stored.
    pub age_working_days: u32,
    pub status: String,
    pub rahasia: bool,
    pub title: String,
    pub topic: Option<String>,
    pub kapanewon: Option<String>,
    /// The stored rule that sent it here (`fallback`, `ragu`, `kewenangan:<id>`, …).
    pub rule_id: Option<String>,
    /// What the mappings in force advise: suggested action, candidates, similar
    /// complaints disposed before (issue 15).
    pub advice: Option<crate::mapping::Advice>,
}

fn waiting(
    s: &StoredComplaint,
    cal: &Calendar,
    now: DateTime<Utc>,
    m: Option<&crate::mapping::Mappings>,
) -> Waiting {
    let c = &s.complaint;
    Waiting {
        rule_id: s.routing.as_ref().map(|r| r.rule_id.clone()),
        advice: m.map(|m| m.advise(c, crate::mapping::today_wib())),
        tracking_id: c.tracking_id,
        first_seen: s.first_seen,
        age_working_days: cal.working_days_between(s.first_seen, now),
        status: c.status.to_string(),
        rahasia: c.rahasia,
        title: c.judul.clone(),
        topic: c.topik.as_ref().map(|t| format!("{} {}", t.id, t.name)),
        kapanewon: c.kapanewon_code().map(str::to_string),
    }
}

/// The open complaints waiting at the triage desk, oldest first, aged in working days
/// of `cal` as of `now`.
pub async fn waiting_list(
    store: &Store,
    cal: &Calendar,
    now: DateTime<Utc>,
    mappings: Option<&crate::mapping::Mappings>,
) -> Result<Vec<Waiting>, AppError> {
    let filter = ComplaintFilter {
        opd: Some(TRIAGE.to_string()),
        in_stream: Some(true),
        ..Default::default()
    };
    let mut open: Vec<StoredComplaint> = store
        .run(move |s| s.list_complaints(&filter))
        .await?
        .into_iter()
        .filter(|s| !s.complaint.status.is_closed())
        .collect();
    open.sort_by_key(|s| (s.first_seen, s.tracking_id()));
    Ok(open
        .iter()
        .map(|s| waiting(s, cal, now, mappings))
        .collect())
}

/// What `triage assign` reports.
#[derive(Debug, Serialize)]
pub struct Assigned {
    pub tracking_id: TrackingId,
    pub from: String,
    pub opd: String,
    pub unit: String,
    pub by: String,
    pub note: String,
    pub disposition_ref: String,
    /// The OPD's name (for people; not in the JSON).
    #[serde(skip)]
    pub opd_name: String,
}

fn refused(e: InputError) -> AppError {
    match e {
        InputError::Store(s) => s.into(),
        other => AppError::Refused(other.to_string()),
    }
}

/// Assigns complaint `id` to OPD `code` of `m` (the mappings in force) as decided by
/// `who`, queueing the disposition to its unit with `note` (default
/// [`DEFAULT_DISPOSITION_NOTE`]). Refused when the OPD is unknown, inactive or has no
/// unit, or the complaint left the stream or is not open for work.
pub async fn assign(
    store: &Store,
    m: &Mappings,
    id: TrackingId,
    code: String,
    note: Option<String>,
    who: &str,
) -> Result<Assigned, AppError> {
    let who = who.to_string();
    let note = note.unwrap_or_else(|| DEFAULT_DISPOSITION_NOTE.to_string());
    policy::check_text("note", &note).map_err(|m| refused(InputError::BadText(m.0)))?;
    let opd = m
        .lookup(&code)
        .ok_or_else(|| refused(InputError::UnknownOpd(code.clone())))?;
    let day = m.today();
    if !opd.valid_on(day) {
        let show = |d: Option<chrono::NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
        return Err(refused(InputError::InactiveOpd {
            code,
            day,
            from: show(opd.valid_from),
            to: show(opd.valid_to),
        }));
    }
    let unit = opd
        .unit_id
        .clone()
        .ok_or_else(|| refused(InputError::NoUnit(code.clone())))?;
    let entry = NewOutboxEntry {
        opd: opd.code.clone(),
        requested_by: who.clone(),
        request: WriteRequest {
            ref_: new_ref(),
            action: WriteAction::Disposisi {
                tracking_id: id,
                unit: unit.clone(),
                catatan: note.clone(),
            },
        },
    };
    let ref_ = entry.request.ref_.clone();
    let revision = m.revision().to_string();
    let (to, by, n) = (opd.code.clone(), who.clone(), note.clone());
    let before = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = before.clone();
    store
        .run(move |s| {
            s.update_complaint(
                id,
                |r| {
                    if !r.in_stream {
                        return Err(StoreError::Refused(format!(
                            "complaint {id} has left Kulon Progo's stream ({}): nothing can be disposed",
                            r.left_reason.as_deref().unwrap_or("no longer addressed to the instansi")
                        )));
                    }
                    if !policy::OPEN_FOR_WORK.contains(&r.complaint.status) {
                        return Err(StoreError::Refused(format!(
                            "complaint {id} is '{}': a disposition is accepted only while it is '{}' or '{}'",
                            r.complaint.status,
                            Status::BelumDitindaklanjuti,
                            Status::Proses
                        )));
                    }
                    if let Ok(mut b) = seen.lock() {
                        *b = r.opd().to_string();
                    }
                    r.routing = Some(Routing {
                        opd: to.clone(),
                        rule_id: "triage".into(),
                        revision: revision.clone(),
                        routed_at: Utc::now(),
                        by: RoutedBy::Person(by.clone()),
                    });
                    Ok(vec![EventKind::TriageAssigned {
                        opd: to.clone(),
                        by: by.clone(),
                        note: n.clone(),
                    }])
                },
                vec![entry.clone()],
            )
        })
        .await
        .map_err(|e| match e {
            StoreError::Refused(m) => AppError::Refused(m),
            other => other.into(),
        })?
        .ok_or_else(|| super::reroute::unknown_complaint(id))?;
    let from = before.lock().map(|b| b.clone()).unwrap_or_default();
    Ok(Assigned {
        tracking_id: id,
        from,
        opd: opd.code.clone(),
        unit,
        by: who,
        note,
        disposition_ref: ref_,
        opd_name: opd.name.clone(),
    })
}

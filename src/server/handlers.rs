//! The `/api/v1` endpoints. Each handler decides authorization with [`Role`] and does its
//! store work on a blocking thread ([`Store::run`]).
//!
//! An OPD token asking for a complaint (or outbox entry) routed to another OPD gets 404,
//! exactly as if it did not exist: OPD staff do not learn which complaints other OPDs
//! hold. A `viewer` asking to write gets 403.

use super::{ApiError, AppState, Caller};
use crate::model::{Complaint, Location, Status, TopicRef, TrackingId, UnitRef};
use crate::push::input::{self, Disposition, FollowUp, InputError, StatusChange};
use crate::server::auth::Role;
use crate::store::{
    ComplaintFilter, Event, OutboxEntry, OutboxState, Routing, RunReport, Store, StoredComplaint,
};
use crate::upstream::WriteAction;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(list_complaints))
        .route("/complaints/{id}", get(show_complaint))
        .route("/complaints/{id}/followups", post(post_followup))
        .route("/complaints/{id}/status", post(post_status))
        .route("/complaints/{id}/disposition", post(post_disposition))
        .route("/outbox", get(list_outbox))
        .route("/outbox/{seq}/retry", post(retry_outbox))
        .route("/outbox/{seq}/discard", post(discard_outbox))
        .route("/runs", get(list_runs))
}

type ApiResult<T> = Result<T, ApiError>;

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        match e.http_status() {
            404 => ApiError::not_found(e.to_string()),
            409 => ApiError::conflict(e.to_string()),
            422 => ApiError::invalid(e.to_string()),
            _ => match e {
                InputError::Store(s) => s.into(),
                other => ApiError::invalid(other.to_string()),
            },
        }
    }
}

/// The body of a write, or a JSON error saying what is wrong with it.
fn body<T>(r: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    match r {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::MissingJsonContentType(_)) => {
            Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
        }
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "the request body is not the JSON this endpoint takes ({}): see docs/api.md",
            e.body_text()
        ))),
    }
}

fn tracking_id(raw: &str) -> ApiResult<TrackingId> {
    raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!(
            "'{raw}' is not a tracking id: use the complaint's number, e.g. /api/v1/complaints/1916449"
        ))
    })
}

fn outbox_seq(raw: &str) -> ApiResult<u64> {
    raw.trim().parse().map_err(|_| {
        ApiError::bad_request(format!(
            "'{raw}' is not an outbox entry number: use the 'seq' shown by GET /api/v1/outbox"
        ))
    })
}

fn complaint_not_found(id: TrackingId) -> ApiError {
    ApiError::not_found(format!(
        "complaint {id} is not in the local store or not routed to your OPD: check the tracking id"
    ))
}

fn viewer_cannot_write(role: &Role) -> ApiResult<()> {
    if matches!(role, Role::Viewer) {
        return Err(ApiError::forbidden(
            "a viewer token reads statuses and metadata only: ask the routed OPD or an administrator to make this change",
        ));
    }
    Ok(())
}

async fn on_store<R: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Store) -> R + Send + 'static,
) -> R {
    state.inner.store.run(f).await
}

// ------------------------------------------------------------------ complaints

/// A complaint in a list: metadata only, never content or reporter identity.
#[derive(Clone, Debug, Serialize)]
pub struct ComplaintSummary {
    pub tracking_id: TrackingId,
    pub judul: String,
    pub status: Status,
    /// The local OPD code it is routed to (`ADMIN`: triage).
    pub opd: String,
    pub rahasia: bool,
    pub anonim: bool,
    pub topik: Option<TopicRef>,
    pub lokasi: Option<Location>,
    pub unit: Option<UnitRef>,
    pub dibuat: Option<DateTime<Utc>>,
    pub diperbarui: DateTime<Utc>,
    pub in_stream: bool,
    pub disposed_at: Option<DateTime<Utc>>,
}

impl ComplaintSummary {
    fn of(s: &StoredComplaint) -> Self {
        let c = &s.complaint;
        ComplaintSummary {
            tracking_id: c.tracking_id,
            judul: c.judul.clone(),
            status: c.status,
            opd: s.opd().to_string(),
            rahasia: c.rahasia,
            anonim: c.anonim,
            topik: c.topik.clone(),
            lokasi: c.lokasi.clone(),
            unit: c.unit.clone(),
            dibuat: c.dibuat,
            diperbarui: c.diperbarui,
            in_stream: s.in_stream,
            disposed_at: s.disposed_at,
        }
    }
}

/// The complaint list as of a recent moment, rebuilt when older than its TTL, so the
/// list endpoint does not decode every stored complaint on every request.
pub(crate) struct ListCache {
    ttl: Duration,
    snapshot: Mutex<Option<(Instant, Arc<Vec<ComplaintSummary>>)>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl ListCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        ListCache {
            ttl,
            snapshot: Mutex::new(None),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh(&self) -> Option<Arc<Vec<ComplaintSummary>>> {
        let guard = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        match &*guard {
            Some((at, v)) if at.elapsed() < self.ttl => Some(v.clone()),
            _ => None,
        }
    }

    async fn get(&self, state: &AppState) -> ApiResult<Arc<Vec<ComplaintSummary>>> {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        // One request rebuilds; the others wait for it and take its result.
        let _one = self.rebuild.lock().await;
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let list = on_store(state, |s| {
            s.list_complaints(&ComplaintFilter::default())
                .map(|v| v.iter().map(ComplaintSummary::of).collect::<Vec<_>>())
        })
        .await?;
        let list = Arc::new(list);
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), list.clone()));
        Ok(list)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    opd: Option<String>,
    status: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// Largest page of the list endpoints.
pub const MAX_PER_PAGE: usize = 500;
const DEFAULT_PER_PAGE: usize = 50;

#[derive(Serialize)]
struct Page<T> {
    items: Vec<T>,
    page: usize,
    per_page: usize,
    total: usize,
}

/// The page and page size asked for: `page` from 1, `per_page` 1 to [`MAX_PER_PAGE`]
/// (refused outside, as docs/api.md says, rather than silently clamped).
fn paging(page: Option<usize>, per_page: Option<usize>) -> ApiResult<(usize, usize)> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::bad_request(
            "page starts at 1: ask for page=1 or later",
        ));
    }
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::bad_request(format!(
            "per_page={per_page} is out of range: ask for 1 to {MAX_PER_PAGE} items per page and follow `page` for more"
        )));
    }
    Ok((page, per_page))
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| {
        ApiError::bad_request(format!(
            "the query parameters are not understood ({}): see docs/api.md",
            e.body_text()
        ))
    })
}

async fn list_complaints(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(Status::parse_loose(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "'{s}' is not a status: use one of {}",
                Status::ALL.map(|s| s.key()).join(", ")
            ))
        })?),
    };
    let (page, per_page) = paging(q.page, q.per_page)?;
    let opd = q.opd.filter(|o| !o.trim().is_empty());
    let all = state.inner.list.get(&state).await?;
    let matches = |s: &&ComplaintSummary| {
        caller.role.can_read(Some(&s.opd))
            && opd.as_ref().is_none_or(|o| s.opd.eq_ignore_ascii_case(o))
            && status.is_none_or(|st| s.status == st)
    };
    let total = all.iter().filter(matches).count();
    let items: Vec<&ComplaintSummary> = all
        .iter()
        .filter(matches)
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    Ok(Json(Page {
        items,
        page,
        per_page,
        total,
    })
    .into_response())
}

/// One outbox entry as the API shows it; `text` only to those who may read the
/// complaint's private parts.
#[derive(Debug, Serialize)]
pub struct OutboxView {
    pub seq: u64,
    #[serde(rename = "ref")]
    pub ref_: String,
    pub kind: &'static str,
    pub tracking_id: Option<TrackingId>,
    pub opd: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaksi_id: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// For a status change: the status asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// For a disposition or follow-up: the upstream unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The follow-up text, reason or note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How a done entry is known to be done without an answer: what a read-back found,
    /// or "sudah berlaku di platform" when its target already held and nothing was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl OutboxView {
    fn of(e: &OutboxEntry, with_text: bool) -> Self {
        let (status, unit, text) = match &e.request.action {
            WriteAction::Disposisi { unit, catatan, .. } => {
                (None, Some(unit.clone()), Some(catatan.clone()))
            }
            WriteAction::TindakLanjut { unit, isi, .. } => {
                (None, Some(unit.clone()), Some(isi.clone()))
            }
            WriteAction::SetStatus { nilai, alasan, .. } => {
                (Some(*nilai), None, Some(alasan.clone()))
            }
            WriteAction::AddStream { .. } => (None, None, None),
        };
        let evidence = match &e.state {
            OutboxState::Done { evidence, .. } => evidence.clone(),
            _ => None,
        };
        let (held_reason, upstream_status, transaksi_id) = match &e.state {
            OutboxState::Held {
                reason,
                upstream_status,
            } => (Some(reason.clone()), upstream_status.clone(), None),
            OutboxState::Done { transaksi_id, .. } => (None, None, Some(transaksi_id.clone())),
            // A person's free text (it can carry a name or a phone): private, like `text`.
            OutboxState::Discarded { reason, .. } => {
                (with_text.then(|| reason.clone()), None, None)
            }
            OutboxState::Pending => (None, None, None),
        };
        OutboxView {
            seq: e.seq,
            ref_: e.ref_.clone(),
            kind: e.request.action.kind(),
            tracking_id: e.tracking_id,
            opd: e.opd.clone(),
            requested_by: e.requested_by.clone(),
            requested_at: e.requested_at,
            state: e.state.name(),
            held_reason,
            upstream_status,
            transaksi_id,
            evidence,
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at,
            last_error: e.last_error.clone(),
            status,
            unit,
            text: if with_text { text } else { None },
        }
    }
}

#[derive(Serialize)]
struct ComplaintDetail {
    complaint: Complaint,
    opd: String,
    routing: Option<Routing>,
    in_stream: bool,
    left_reason: Option<String>,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    disposed_at: Option<DateTime<Utc>>,
    /// True when reporter identity and rahasia content were withheld.
    redacted: bool,
    history: Vec<Event>,
    outbox: Vec<OutboxView>,
    /// At the triage desk: the suggested action, candidates and similar complaints
    /// disposed before, from the mapping files in force (issue 15).
    #[serde(skip_serializing_if = "Option::is_none")]
    advice: Option<crate::mapping::Advice>,
}

/// The stored complaint if the caller may read it; 404 otherwise.
async fn readable(state: &AppState, caller: &Caller, id: TrackingId) -> ApiResult<StoredComplaint> {
    let found = on_store(state, move |s| s.get_complaint(id)).await?;
    match found {
        Some(c) if caller.role.can_read(Some(c.opd())) => Ok(c),
        _ => Err(complaint_not_found(id)),
    }
}

/// A history event without the free text a person wrote (a discard reason, a triage
/// note: they can carry a reporter's name or phone), for roles without private access.
fn redact_event(mut e: crate::store::Event) -> crate::store::Event {
    use crate::store::EventKind;
    const HIDDEN: &str = "(disembunyikan)";
    match &mut e.kind {
        EventKind::OutboxDiscarded { reason, .. } => *reason = HIDDEN.into(),
        EventKind::TriageAssigned { note, .. } => *note = HIDDEN.into(),
        _ => {}
    }
    e
}

async fn show_complaint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let id = tracking_id(&raw)?;
    let sc = readable(&state, &caller, id).await?;
    let (history, entries) = on_store(&state, move |s| {
        let h = s.events(id)?;
        let o: Vec<OutboxEntry> = s
            .outbox_all()?
            .into_iter()
            .filter(|e| e.tracking_id == Some(id))
            .collect();
        Ok::<_, crate::store::StoreError>((h, o))
    })
    .await?;
    let private = caller.role.can_read_private(Some(sc.opd()));
    let complaint = if private {
        sc.complaint.clone()
    } else {
        sc.complaint.redacted()
    };
    Ok(Json(ComplaintDetail {
        complaint,
        opd: sc.opd().to_string(),
        routing: sc.routing.clone(),
        in_stream: sc.in_stream,
        left_reason: sc.left_reason.clone(),
        first_seen: sc.first_seen,
        last_seen: sc.last_seen,
        disposed_at: sc.disposed_at,
        redacted: !private,
        history: if private {
            history
        } else {
            history.into_iter().map(redact_event).collect()
        },
        outbox: entries.iter().map(|e| OutboxView::of(e, private)).collect(),
        advice: (private && sc.opd() == crate::mapping::TRIAGE).then(|| {
            state
                .inner
                .opds
                .advise(&sc.complaint, crate::mapping::today_wib())
        }),
    })
    .into_response())
}

/// The complaint if the caller may act on it: 403 for viewers, 404 if unreadable, 403 if
/// readable but not writable.
async fn writable(state: &AppState, caller: &Caller, id: TrackingId) -> ApiResult<StoredComplaint> {
    viewer_cannot_write(&caller.role)?;
    let c = readable(state, caller, id).await?;
    if !caller.role.can_write(Some(c.opd())) {
        return Err(ApiError::forbidden(
            "your token may not act on this complaint: ask an administrator",
        ));
    }
    Ok(c)
}

fn accepted(e: &OutboxEntry) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "outbox": OutboxView::of(e, true) })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowupBody {
    text: String,
    /// Only for administrators: the acting OPD (default: the routed OPD).
    opd: Option<String>,
}

async fn post_followup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    b: Result<Json<FollowupBody>, JsonRejection>,
) -> ApiResult<Response> {
    let id = tracking_id(&raw)?;
    let c = writable(&state, &caller, id).await?;
    let b = body(b)?;
    let opd = match (&caller.role, b.opd) {
        (Role::Opd(code), Some(o)) if !o.eq_ignore_ascii_case(code) => {
            return Err(ApiError::forbidden(format!(
                "an OPD token posts follow-ups only as its own OPD ('{code}'): leave out \"opd\""
            )));
        }
        (_, Some(o)) => o,
        (_, None) => c.opd().to_string(),
    };
    let st = state.clone();
    let by = caller.name.clone();
    let e = on_store(&state, move |s| {
        let input = FollowUp {
            tracking_id: id,
            opd,
            text: b.text,
        };
        input::followup(s, &st.inner.opds, &input, &by)
    })
    .await?;
    Ok(accepted(&e))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    reason: String,
}

async fn post_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    b: Result<Json<StatusBody>, JsonRejection>,
) -> ApiResult<Response> {
    let id = tracking_id(&raw)?;
    writable(&state, &caller, id).await?;
    let b = body(b)?;
    let status = Status::parse_loose(&b.status).ok_or_else(|| {
        ApiError::invalid(format!(
            "'{}' is not a status: use selesai, ditunda or bukan_wewenang",
            b.status
        ))
    })?;
    let by = caller.name.clone();
    let e = on_store(&state, move |s| {
        let input = StatusChange {
            tracking_id: id,
            status,
            reason: b.reason,
        };
        input::set_status(s, &input, &by)
    })
    .await?;
    Ok(accepted(&e))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispositionBody {
    opd: String,
    #[serde(default)]
    note: String,
}

async fn post_disposition(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    b: Result<Json<DispositionBody>, JsonRejection>,
) -> ApiResult<Response> {
    let id = tracking_id(&raw)?;
    writable(&state, &caller, id).await?;
    if !caller.role.is_admin() {
        return Err(ApiError::forbidden(
            "only an administrator disposes a complaint to an OPD: ask the administrator to reroute it",
        ));
    }
    let b = body(b)?;
    let st = state.clone();
    let by = caller.name.clone();
    let e = on_store(&state, move |s| {
        let input = Disposition {
            tracking_id: id,
            opd: b.opd,
            note: Some(b.note).filter(|n| !n.is_empty()),
        };
        input::dispose(s, &st.inner.opds, &input, &by)
    })
    .await?;
    Ok(accepted(&e))
}

// ------------------------------------------------------------------ outbox

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    held: Option<bool>,
}

/// The OPD a complaint is routed to, for each entry (None: no complaint, e.g. addstream).
fn routed_opd(s: &Store, e: &OutboxEntry) -> Result<Option<String>, crate::store::StoreError> {
    match e.tracking_id {
        Some(id) => Ok(s.get_complaint(id)?.map(|c| c.opd().to_string())),
        None => Ok(None),
    }
}

async fn list_outbox(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let held_only = q.held.unwrap_or(false);
    let role = caller.role.clone();
    let items = on_store(&state, move |s| {
        let mut out = Vec::new();
        for e in s.outbox_unfinished()? {
            if held_only && !matches!(e.state, OutboxState::Held { .. }) {
                continue;
            }
            let routed = routed_opd(s, &e)?;
            let visible = match &role {
                Role::Admin | Role::Viewer => true,
                Role::Opd(_) => role.can_read(routed.as_deref()),
            };
            if visible {
                out.push(OutboxView::of(&e, role.can_read_private(routed.as_deref())));
            }
        }
        Ok::<_, crate::store::StoreError>(out)
    })
    .await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// The entry if the caller may act on it: 403 for viewers, 404 for another OPD's.
async fn actionable(state: &AppState, caller: &Caller, seq: u64) -> ApiResult<()> {
    viewer_cannot_write(&caller.role)?;
    let found = on_store(state, move |s| {
        let Some(e) = s.outbox_entry(seq)? else {
            return Ok(None);
        };
        Ok::<_, crate::store::StoreError>(Some(routed_opd(s, &e)?))
    })
    .await?;
    match found {
        Some(routed) if caller.role.can_write(routed.as_deref()) => Ok(()),
        _ => Err(ApiError::not_found(format!(
            "outbox entry {seq} does not exist or concerns a complaint not routed to your OPD: check the number with GET /api/v1/outbox"
        ))),
    }
}

async fn retry_outbox(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let seq = outbox_seq(&raw)?;
    actionable(&state, &caller, seq).await?;
    let by = caller.name.clone();
    let e = on_store(&state, move |s| input::retry(s, seq, &by)).await?;
    Ok(Json(serde_json::json!({ "outbox": OutboxView::of(&e, true) })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscardBody {
    reason: String,
}

async fn discard_outbox(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    b: Result<Json<DiscardBody>, JsonRejection>,
) -> ApiResult<Response> {
    let seq = outbox_seq(&raw)?;
    actionable(&state, &caller, seq).await?;
    let b = body(b)?;
    let by = caller.name.clone();
    let e = on_store(&state, move |s| input::discard(s, seq, &b.reason, &by)).await?;
    Ok(Json(serde_json::json!({ "outbox": OutboxView::of(&e, true) })).into_response())
}

// ------------------------------------------------------------------ runs

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    job: Option<String>,
    limit: Option<usize>,
}

async fn list_runs(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    q: Result<Query<RunsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let limit = q.limit.unwrap_or(20).clamp(1, MAX_PER_PAGE);
    let items: Vec<RunReport> =
        on_store(&state, move |s| s.run_reports(q.job.as_deref(), limit)).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

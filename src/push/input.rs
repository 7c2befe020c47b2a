//! Local input for the push stage: the checks a follow-up, a status change, a disposition
//! or a locally received complaint passes before it is queued, and the outbox actions a
//! person takes on an entry (retry, discard).
//!
//! These are library functions taking (store, OPD directory, input, who) so the CLI and
//! the HTTP API share them. Each returns the queued [`OutboxEntry`] only after the store
//! flushed it to disk, or an [`InputError`] whose message says what to do. Checks use the
//! complaint's *expected* state: its stored state with the entries still queued for it
//! applied, so a follow-up queued a moment ago already counts for the next status change.

use super::policy;
use crate::mapping::Opd;
use crate::model::{NewComplaint, Reporter, Status, TrackingId};
use crate::store::{
    ADMIN_OPD, NewOutboxEntry, OutboxEntry, OutboxState, Store, StoreError, StoredComplaint,
    new_ref,
};
use crate::upstream::{WriteAction, WriteRequest};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use std::path::Path;

/// The note sent with a disposition when the caller gives none.
pub const DEFAULT_DISPOSITION_NOTE: &str = "Mohon ditindaklanjuti sesuai kewenangan.";
/// Longest title of a locally received complaint.
pub const MAX_TITLE_CHARS: usize = 200;

/// The disposition queued without a person's request when a complaint is routed to
/// `opd` (`[mappings] auto_dispose`: at first sight by the pull, or by a reroute): to the
/// OPD's `unit`, with [`DEFAULT_DISPOSITION_NOTE`]. Whether one is needed is the caller's
/// rule (the pull never disposes over a unit the platform set).
pub fn auto_disposition(
    tracking_id: TrackingId,
    opd: &str,
    unit: String,
    requested_by: &str,
) -> NewOutboxEntry {
    NewOutboxEntry {
        opd: opd.to_string(),
        requested_by: requested_by.to_string(),
        request: WriteRequest {
            ref_: new_ref(),
            action: WriteAction::Disposisi {
                tracking_id,
                unit,
                catatan: DEFAULT_DISPOSITION_NOTE.to_string(),
            },
        },
    }
}

/// Where the OPDs of the mapping files are looked up.
pub trait OpdDirectory {
    /// The current entry of an OPD code.
    fn lookup(&self, code: &str) -> Option<Opd>;
    /// Today's date in WIB (validity of OPD entries is checked against it).
    fn today(&self) -> NaiveDate {
        crate::mapping::today_wib()
    }
}

impl OpdDirectory for crate::mapping::Mappings {
    fn lookup(&self, code: &str) -> Option<Opd> {
        let today = crate::mapping::today_wib();
        self.opd_on(code, today).or_else(|| self.opd(code)).cloned()
    }
}

/// Why local input was refused. Nothing was queued.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "complaint {0} is not in the local store: check the tracking id, or run `sp4n pull` first if it is new"
    )]
    UnknownComplaint(TrackingId),
    #[error("complaint {id} has left Kulon Progo's stream ({reason}): nothing can be sent for it")]
    LeftStream { id: TrackingId, reason: String },
    #[error("{0}")]
    BadText(String),
    #[error("{0}")]
    StatusNotAllowed(String),
    #[error(
        "OPD '{0}' is not in mappings/opd.toml: use one of the codes listed there (codes are case-sensitive)"
    )]
    UnknownOpd(String),
    #[error(
        "OPD '{code}' is not active on {day} (valid {from} to {to}): use the OPD that is responsible today"
    )]
    InactiveOpd {
        code: String,
        day: NaiveDate,
        from: String,
        to: String,
    },
    #[error(
        "OPD '{0}' has no unit account on the platform (no unit_id in mappings/opd.toml): dispose the complaint to a real OPD"
    )]
    NoUnit(String),
    #[error(
        "complaint {id} is routed to {routed}, not to {opd}: only the routed OPD posts follow-ups; dispose it to {opd} first (`sp4n dispose {id} {opd}`) if it should act"
    )]
    WrongOpd {
        id: TrackingId,
        opd: String,
        routed: String,
    },
    #[error("{0}")]
    BadComplaint(String),
    #[error("outbox entry {0} does not exist: see `sp4n outbox list`")]
    UnknownEntry(u64),
    #[error("outbox entry {seq} is {state}: {what}")]
    EntryState {
        seq: u64,
        state: &'static str,
        what: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl InputError {
    /// The HTTP status the API answers with (404 unknown, 409 state, 422 bad input,
    /// 500 store).
    pub fn http_status(&self) -> u16 {
        match self {
            InputError::UnknownComplaint(_) | InputError::UnknownEntry(_) => 404,
            InputError::LeftStream { .. }
            | InputError::StatusNotAllowed(_)
            | InputError::WrongOpd { .. }
            | InputError::EntryState { .. } => 409,
            InputError::Store(_) => 500,
            _ => 422,
        }
    }

    /// True when the person can fix the input (everything but store failures).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, InputError::Store(_))
    }
}

/// A follow-up an OPD posts on a complaint routed to it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FollowUp {
    pub tracking_id: TrackingId,
    pub opd: String,
    pub text: String,
}

/// A status change (`selesai`, `ditunda`, `bukan_wewenang`) with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StatusChange {
    pub tracking_id: TrackingId,
    pub status: Status,
    pub reason: String,
}

/// A disposition of a complaint to an OPD (its upstream unit).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Disposition {
    pub tracking_id: TrackingId,
    pub opd: String,
    /// Default: [`DEFAULT_DISPOSITION_NOTE`].
    #[serde(default)]
    pub note: Option<String>,
}

/// The complaint as it will be once the queued entries are applied: status and the OPD
/// it is (to be) disposed to.
struct Expected {
    status: Status,
    opd: String,
}

fn load(store: &Store, id: TrackingId) -> Result<(StoredComplaint, Expected), InputError> {
    let rec = store
        .get_complaint(id)?
        .ok_or(InputError::UnknownComplaint(id))?;
    if !rec.in_stream {
        return Err(InputError::LeftStream {
            id,
            reason: rec
                .left_reason
                .clone()
                .unwrap_or_else(|| "no longer addressed to the instansi".into()),
        });
    }
    let mut exp = Expected {
        status: rec.complaint.status,
        opd: rec.opd().to_string(),
    };
    for e in store.outbox_unfinished()? {
        if e.tracking_id != Some(id) {
            continue;
        }
        match &e.request.action {
            WriteAction::TindakLanjut { .. } => exp.status = Status::Proses,
            WriteAction::SetStatus { nilai, .. } => exp.status = *nilai,
            WriteAction::Disposisi { .. } => exp.opd = e.opd.clone(),
            WriteAction::AddStream { .. } => {}
        }
    }
    Ok((rec, exp))
}

/// The OPD entry for `code`, checked to exist, be valid today and have a unit account.
fn active_opd(dir: &dyn OpdDirectory, code: &str) -> Result<Opd, InputError> {
    let opd = dir
        .lookup(code)
        .ok_or_else(|| InputError::UnknownOpd(code.to_string()))?;
    let day = dir.today();
    if !opd.valid_on(day) {
        let show = |d: Option<NaiveDate>| d.map_or("-".to_string(), |d| d.to_string());
        return Err(InputError::InactiveOpd {
            code: code.to_string(),
            day,
            from: show(opd.valid_from),
            to: show(opd.valid_to),
        });
    }
    if opd.unit_id.is_none() {
        return Err(InputError::NoUnit(code.to_string()));
    }
    Ok(opd)
}

fn open_for_work(exp: &Expected, what: &str) -> Result<(), InputError> {
    if policy::OPEN_FOR_WORK.contains(&exp.status) {
        Ok(())
    } else {
        Err(InputError::StatusNotAllowed(format!(
            "the complaint is '{}'; a {what} is accepted only while it is 'Belum Ditindaklanjuti' or 'Proses'",
            exp.status
        )))
    }
}

/// Queues one write for `opd`, requested by `who`, with a fresh `ref` made here, once.
fn enqueue(
    store: &Store,
    opd: String,
    who: &str,
    action: WriteAction,
) -> Result<OutboxEntry, InputError> {
    let entry = NewOutboxEntry {
        opd,
        requested_by: who.to_string(),
        request: WriteRequest {
            ref_: new_ref(),
            action,
        },
    };
    // The store flushes before returning: accepted means on disk.
    let mut out = store.enqueue(vec![entry])?;
    out.pop()
        .ok_or_else(|| InputError::Store(StoreError::Refused("nothing was queued".into())))
}

/// Queues a follow-up by the OPD the complaint is routed to.
pub fn followup(
    store: &Store,
    dir: &dyn OpdDirectory,
    input: &FollowUp,
    who: &str,
) -> Result<OutboxEntry, InputError> {
    policy::check_text("follow-up", &input.text).map_err(|e| InputError::BadText(e.0))?;
    let (_, exp) = load(store, input.tracking_id)?;
    let opd = active_opd(dir, &input.opd)?;
    if exp.opd != opd.code {
        return Err(InputError::WrongOpd {
            id: input.tracking_id,
            opd: opd.code,
            routed: exp.opd,
        });
    }
    open_for_work(&exp, "follow-up")?;
    let unit = opd.unit_id.clone().unwrap_or_default();
    enqueue(
        store,
        opd.code,
        who,
        WriteAction::TindakLanjut {
            tracking_id: input.tracking_id,
            unit,
            isi: input.text.clone(),
        },
    )
}

/// Queues a status change that fits the complaint's (expected) current status.
pub fn set_status(
    store: &Store,
    input: &StatusChange,
    who: &str,
) -> Result<OutboxEntry, InputError> {
    policy::check_text("reason", &input.reason).map_err(|e| InputError::BadText(e.0))?;
    let (_, exp) = load(store, input.tracking_id)?;
    policy::check_status_change(exp.status, input.status)
        .map_err(|e| InputError::StatusNotAllowed(e.0))?;
    enqueue(
        store,
        exp.opd,
        who,
        WriteAction::SetStatus {
            tracking_id: input.tracking_id,
            nilai: input.status,
            alasan: input.reason.clone(),
        },
    )
}

/// Queues a disposition to an active OPD with a unit account.
pub fn dispose(
    store: &Store,
    dir: &dyn OpdDirectory,
    input: &Disposition,
    who: &str,
) -> Result<OutboxEntry, InputError> {
    let note = input
        .note
        .clone()
        .unwrap_or_else(|| DEFAULT_DISPOSITION_NOTE.to_string());
    policy::check_text("note", &note).map_err(|e| InputError::BadText(e.0))?;
    let (_, exp) = load(store, input.tracking_id)?;
    let opd = active_opd(dir, &input.opd)?;
    open_for_work(&exp, "disposition")?;
    let unit = opd.unit_id.clone().unwrap_or_default();
    enqueue(
        store,
        opd.code,
        who,
        WriteAction::Disposisi {
            tracking_id: input.tracking_id,
            unit,
            catatan: note,
        },
    )
}

/// A complaint received through a local channel, as `sp4n submit --file` reads it (TOML
/// or JSON; see `fixtures/submit-example.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitForm {
    pub judul: String,
    pub isi: String,
    /// Topic id of the platform's tree (e.g. "41" Jalan dan Jembatan).
    #[serde(default)]
    pub topik: Option<String>,
    /// Kemendagri region code (`34.01.xx` or `34.01.xx.xxxx`).
    #[serde(default)]
    pub lokasi: Option<String>,
    /// `web`, `sms1708`, `android`, `ios`, `twitter` or `integrasi` (default).
    #[serde(default)]
    pub kanal: Option<String>,
    #[serde(default)]
    pub rahasia: bool,
    #[serde(default)]
    pub anonim: bool,
    #[serde(default)]
    pub pelapor: Option<SubmitReporter>,
}

/// The reporter of a locally received complaint (personal data: never logged).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitReporter {
    pub namadepan: String,
    #[serde(default)]
    pub namabelakang: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub telpon: String,
}

impl std::fmt::Debug for SubmitReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubmitReporter(***)")
    }
}

impl SubmitForm {
    /// Reads a form from a `.toml` or `.json` file (chosen by extension; other names are
    /// tried as TOML).
    pub fn read(path: &Path) -> Result<SubmitForm, InputError> {
        let text = crate::limits::read_to_string_capped(path, crate::limits::MAX_INPUT_FILE_BYTES)
            .map_err(|e| {
                InputError::BadComplaint(format!("cannot read {}: {e}", path.display()))
            })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            serde_json::from_str(&text).map_err(|e| {
                InputError::BadComplaint(format!(
                    "{} is not a valid complaint (JSON): {e}; see fixtures/submit-example.json",
                    path.display()
                ))
            })
        } else {
            toml::from_str(&text).map_err(|e| {
                InputError::BadComplaint(format!(
                    "{} is not a valid complaint (TOML): {e}; see fixtures/submit-example.toml",
                    path.display()
                ))
            })
        }
    }

    /// Checks the form against the example topic tree (see [`SubmitForm::to_complaint_for`]).
    pub fn to_complaint(&self) -> Result<NewComplaint, InputError> {
        self.to_complaint_for(None)
    }

    /// Checks the form and turns it into the complaint `addstream` sends. `topik` is
    /// checked against the platform's tree (`topics`, from the stored vocabulary; `None`
    /// before the first fetch: the example tree) and may be an id or a path of names,
    /// which is sent as the platform's id.
    pub fn to_complaint_for(
        &self,
        topics: Option<&[crate::model::Topic]>,
    ) -> Result<NewComplaint, InputError> {
        let bad = |m: String| InputError::BadComplaint(m);
        let title = self.judul.trim();
        if title.is_empty() {
            return Err(bad("judul (the title) is empty: write a short title".into()));
        }
        check_chars("title (judul)", title).map_err(|e| bad(e.0))?;
        let n = title.chars().count();
        if n > MAX_TITLE_CHARS {
            return Err(bad(format!(
                "judul has {n} characters; at most {MAX_TITLE_CHARS}: shorten it"
            )));
        }
        policy::check_text("complaint text (isi)", &self.isi)
            .map_err(|e| InputError::BadText(e.0))?;
        if let Some(k) = &self.kanal
            && !crate::mapping::CHANNELS.contains(&k.as_str())
        {
            return Err(bad(format!(
                "kanal '{k}' is unknown: use one of {}",
                crate::mapping::CHANNELS.join(", ")
            )));
        }
        let topik_id = match &self.topik {
            None => None,
            Some(t) => {
                use crate::mapping::world::{TopicMiss, TopicTree};
                let tree = topics.map_or_else(TopicTree::modelled, TopicTree::new);
                let what = if topics.is_some() {
                    "the platform's"
                } else {
                    "the example tree's (the platform's topics were never read: run `sp4n pull` first)"
                };
                match tree.resolve(t) {
                    Ok(i) => Some(tree.id(i).to_string()),
                    Err(miss) => {
                        let hint = match miss {
                            TopicMiss::UnknownName {
                                suggestion: Some(p),
                            } => format!("did you mean \"{p}\"?"),
                            TopicMiss::Ambiguous { paths } => {
                                format!("write the whole path: {}", paths.join(" or "))
                            }
                            _ => "`sp4n mappings topics` lists them".to_string(),
                        };
                        return Err(bad(format!(
                            "topik '{t}' is not one of {what} topics (an id or a path of names): {hint}"
                        )));
                    }
                }
            }
        };
        if let Some(l) = &self.lokasi
            && !(l.starts_with("34.01.") && (l.len() == 8 || l.len() == 13))
        {
            return Err(bad(format!(
                "lokasi '{l}' is not a Kulon Progo region code (34.01.xx or 34.01.xx.xxxx)"
            )));
        }
        let pelapor = match (&self.pelapor, self.anonim) {
            (_, true) => None,
            (None, false) => {
                return Err(bad(
                    "a reporter is required unless anonim = true: add a [pelapor] section with at least namadepan".into(),
                ));
            }
            (Some(p), false) => {
                for (what, v) in [
                    ("pelapor.namadepan", &p.namadepan),
                    ("pelapor.namabelakang", &p.namabelakang),
                    ("pelapor.email", &p.email),
                    ("pelapor.telpon", &p.telpon),
                ] {
                    check_chars(what, v).map_err(|e| bad(e.0))?;
                }
                if p.namadepan.trim().is_empty() {
                    return Err(bad("pelapor.namadepan is empty".into()));
                }
                if p.email.trim().is_empty() && p.telpon.trim().is_empty() {
                    return Err(bad(
                        "give the reporter's email or telpon so the platform can answer them"
                            .into(),
                    ));
                }
                Some(Reporter {
                    namadepan: p.namadepan.trim().to_string(),
                    namabelakang: p.namabelakang.trim().to_string(),
                    email: p.email.trim().to_string(),
                    telpon: p.telpon.trim().to_string(),
                })
            }
        };
        Ok(NewComplaint {
            rahasia: self.rahasia,
            anonim: self.anonim,
            pelapor,
            judul: title.to_string(),
            isi: self.isi.clone(),
            topik_id,
            lokasi_kode: self.lokasi.clone(),
            kanal: Some(self.kanal.clone().unwrap_or_else(|| "integrasi".into())),
        })
    }
}

/// Refuses characters the platform's XML cannot carry: control characters other than
/// tab, line feed and carriage return (NUL, escape, form feed, ...), and the
/// non-characters U+FFFE and U+FFFF. The message names the first one and where it is.
pub fn check_chars(what: &str, text: &str) -> Result<(), policy::NotAccepted> {
    let carried = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || (' '..='~').contains(&c)
            || ('\u{A0}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    let bad = text.chars().enumerate().find(|(_, c)| !carried(*c));
    match bad {
        None => Ok(()),
        Some((i, c)) => Err(policy::NotAccepted(format!(
            "the {what} contains the control character U+{:04X} at character {} that the platform cannot carry: remove it (text copied from another program or a binary file can bring these in)",
            c as u32,
            i + 1
        ))),
    }
}

/// Queues a locally received complaint for `addstream`.
pub fn submit(store: &Store, form: &SubmitForm, who: &str) -> Result<OutboxEntry, InputError> {
    let vocab = crate::mapping::vocabulary::stored(store)?;
    let laporan = form.to_complaint_for(vocab.as_ref().map(|v| v.topics.as_slice()))?;
    enqueue(
        store,
        ADMIN_OPD.to_string(),
        who,
        WriteAction::AddStream { laporan },
    )
}

fn entry(store: &Store, seq: u64) -> Result<OutboxEntry, InputError> {
    store
        .outbox_entry(seq)?
        .ok_or(InputError::UnknownEntry(seq))
}

/// Puts a held (or waiting) entry back in line for the next push, due now.
pub fn retry(store: &Store, seq: u64, who: &str) -> Result<OutboxEntry, InputError> {
    let mut e = entry(store, seq)?;
    if e.state.is_finished() {
        return Err(InputError::EntryState {
            seq,
            state: e.state.name(),
            what: "nothing is left to retry",
        });
    }
    e.state = OutboxState::Pending;
    e.next_attempt_at = Utc::now();
    e.last_error = Some(format!("retry requested by {who}"));
    store.update_entry(&e)?;
    Ok(e)
}

/// Gives up an unfinished entry; the reason is recorded in the complaint's history.
pub fn discard(
    store: &Store,
    seq: u64,
    reason: &str,
    who: &str,
) -> Result<OutboxEntry, InputError> {
    policy::check_text("reason", reason).map_err(|e| InputError::BadText(e.0))?;
    let mut e = entry(store, seq)?;
    if e.state.is_finished() {
        return Err(InputError::EntryState {
            seq,
            state: e.state.name(),
            what: "it can no longer be discarded",
        });
    }
    e.state = OutboxState::Discarded {
        reason: reason.to_string(),
        by: who.to_string(),
        at: Utc::now(),
    };
    store.update_entry(&e)?;
    Ok(e)
}

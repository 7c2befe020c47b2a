//! The values the store keeps: a complaint's stored record and its routing, the events of
//! its history, set-aside items, run reports, outbox entries and API tokens.
//!
//! All are plain serde types, stored as JSON so a person can read them with any sled
//! tool when something goes wrong.

use crate::model::WriteRequest;
use crate::model::{Complaint, Status, StreamKey, TrackingId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The OPD code of the administrator's triage queue: complaints no rule could route.
pub const ADMIN_OPD: &str = "ADMIN";

/// Who took a routing decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutedBy {
    /// The mapping rules, when the complaint was first stored.
    Rules,
    /// Followed the upstream unit after a re-disposition by the national admin.
    Upstream,
    /// The unit the platform had already disposed the complaint to when it was first seen.
    Platform,
    /// A person (administrator triage or reroute); the name or token name.
    Person(String),
}

/// Where a complaint is routed locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The OPD code (`ADMIN` for triage).
    pub opd: String,
    pub rule_id: String,
    /// The mapping revision that decided it.
    pub revision: String,
    pub routed_at: DateTime<Utc>,
    pub by: RoutedBy,
}

/// One complaint as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredComplaint {
    pub complaint: Complaint,
    /// The exact `<laporan>` XML it was last read from.
    pub raw: String,
    /// Content hash of `complaint` (see [`content_hash`]); unchanged hash = nothing new.
    pub hash: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// False once the complaint left the instansi's stream (returned, archived, forbidden).
    pub in_stream: bool,
    pub left_reason: Option<String>,
    pub routing: Option<Routing>,
    /// When a disposition to the routed OPD was confirmed upstream.
    pub disposed_at: Option<DateTime<Utc>>,
    /// What the platform showed about the SLA clocks over the versions read (the first
    /// update that carried a unit, the statuses with their times); see [`crate::sla::evidence`].
    #[serde(default)]
    pub sla: crate::sla::SlaEvidence,
}

impl StoredComplaint {
    pub fn tracking_id(&self) -> TrackingId {
        self.complaint.tracking_id
    }

    /// The local OPD code, `ADMIN` when unrouted.
    pub fn opd(&self) -> &str {
        self.routing.as_ref().map_or(ADMIN_OPD, |r| r.opd.as_str())
    }
}

/// The content hash of a complaint: SHA-256 over its canonical JSON, hex.
///
/// Hashing the typed record rather than the raw XML makes the hash independent of
/// white space and attribute order, so only a real change counts as one.
pub fn content_hash(c: &Complaint) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(c).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

/// What happened to a complaint, as one entry of its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    FirstSeen,
    /// Fields other than status, unit and thread changed (names of the fields).
    FieldsChanged {
        fields: Vec<String>,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    /// New thread entries; `by` is the author (`pelapor`, `instansi`, `admin`).
    ThreadAdded {
        transaksi_ids: Vec<String>,
        by: String,
    },
    /// The national admin moved the complaint to another unit.
    Redisposed {
        from_unit: Option<String>,
        to_unit: Option<String>,
    },
    Closed,
    Reopened,
    LeftStream {
        reason: String,
    },
    Routed {
        opd: String,
        rule_id: String,
        revision: String,
    },
    Rerouted {
        from: String,
        to: String,
        by: String,
    },
    TriageAssigned {
        opd: String,
        by: String,
        note: String,
    },
    OutboxQueued {
        #[serde(rename = "ref")]
        ref_: String,
    },
    OutboxDone {
        #[serde(rename = "ref")]
        ref_: String,
        transaksi_id: String,
    },
    OutboxHeld {
        #[serde(rename = "ref")]
        ref_: String,
        reason: String,
    },
    OutboxDiscarded {
        #[serde(rename = "ref")]
        ref_: String,
        reason: String,
        by: String,
    },
}

/// One stored event of a complaint's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub tracking_id: TrackingId,
    /// Store-wide increasing number; orders the history.
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[cfg(test)]
mod redact_tests {
    use super::*;

    #[test]
    fn reporter_elements_are_hidden_even_in_a_cut_document() {
        let xml = "<laporan><judul>Jalan</judul><pelapor anonim=\"0\"><namadepan>Sri</namadepan><email>sri@contoh.id</email></pelapor><isi>x</isi></laporan>";
        let r = redact_reporter_xml(xml);
        assert!(!r.contains("Sri") && !r.contains("sri@"), "{r}");
        assert!(
            r.contains("<judul>Jalan</judul>") && r.contains("<isi>x</isi>"),
            "{r}"
        );
        let cut = "<laporan><pelapor><telpon>0812345";
        assert!(!redact_reporter_xml(cut).contains("0812345"));
        let loose = "<x><telpon>0812</telpon><telponrumah>1</telponrumah></x>";
        assert!(!redact_reporter_xml(loose).contains("0812"));
    }
}

/// An item set aside during a run: the raw bytes and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineItem {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub run_id: Option<u64>,
    pub tracking_id: Option<TrackingId>,
    pub reason: String,
    /// The raw bytes, hex-encoded when they are not UTF-8 (see `raw_is_hex`).
    pub raw: String,
    #[serde(default)]
    pub raw_is_hex: bool,
}

/// What stands in for reporter data in a redacted set-aside item.
pub const REPORTER_HIDDEN: &str = "[disembunyikan: --reveal-reporter]";

/// The XML elements that carry reporter identity.
const REPORTER_ELEMENTS: [&str; 5] = ["pelapor", "namadepan", "namabelakang", "email", "telpon"];

/// `xml` with the content of every reporter element replaced by [`REPORTER_HIDDEN`]
/// (also in a truncated document: an element left open is hidden to the end).
pub fn redact_reporter_xml(xml: &str) -> String {
    let mut text = xml.to_string();
    for name in REPORTER_ELEMENTS {
        text = redact_element(&text, name);
    }
    text
}

fn redact_element(xml: &str, name: &str) -> String {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    loop {
        let found = rest.match_indices(&open).find(|(i, _)| {
            rest[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
        });
        let Some((start, _)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        let Some(tag_len) = rest[start..].find('>') else {
            out.push_str(&open);
            out.push_str(REPORTER_HIDDEN);
            return out;
        };
        let tag_end = start + tag_len + 1;
        if rest[..tag_end].ends_with("/>") {
            out.push_str(&open);
            out.push_str("/>");
            rest = &rest[tag_end..];
            continue;
        }
        out.push_str(&open);
        out.push('>');
        out.push_str(REPORTER_HIDDEN);
        match rest[tag_end..].find(&close) {
            Some(i) => {
                out.push_str(&close);
                rest = &rest[tag_end + i + close.len()..];
            }
            None => return out,
        }
    }
}

impl QuarantineItem {
    /// The item with reporter identity hidden in its raw bytes; bytes that are not
    /// text are hidden whole.
    pub fn redacted(&self) -> QuarantineItem {
        let raw = if self.raw_is_hex {
            REPORTER_HIDDEN.to_string()
        } else {
            redact_reporter_xml(&self.raw)
        };
        QuarantineItem {
            raw,
            raw_is_hex: false,
            ..self.clone()
        }
    }

    /// The raw bytes as received.
    pub fn raw_bytes(&self) -> Vec<u8> {
        if self.raw_is_hex {
            hex::decode(&self.raw).unwrap_or_default()
        } else {
            self.raw.clone().into_bytes()
        }
    }
}

/// An item to set aside, as the caller hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewQuarantine {
    pub tracking_id: Option<TrackingId>,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Everything went through.
    Ok,
    /// Finished, but items were set aside or held (exit 1).
    Partial,
    /// Stopped by a temporary failure; the next run continues (exit 4 if nothing was done).
    Retry,
    /// The platform refused the token (exit 3).
    TokenRefused,
    /// Stopped by a store or configuration problem.
    Failed,
}

/// The record of one run of a job (pull, reconcile, push, sync).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RunReport {
    /// Assigned by the store when saved.
    pub id: u64,
    pub job: String,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub pages: u64,
    pub pulled: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub set_aside: u64,
    pub left_stream: u64,
    pub cursor_before: Option<StreamKey>,
    pub cursor_after: Option<StreamKey>,
    pub outcome: Option<RunOutcome>,
    /// Outbox entries on hold at the end of the run.
    pub held: u64,
    /// Push counters (filled by the push stage).
    #[serde(default)]
    pub sent: u64,
    /// One line per problem (kind and guidance; never a token or personal data).
    #[serde(default)]
    pub problems: Vec<String>,
}

/// State of an outbox entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Held {
        reason: String,
        upstream_status: Option<String>,
    },
    Done {
        transaksi_id: String,
        at: DateTime<Utc>,
        /// How it is known to be done when no answer confirmed it: what a read-back
        /// found, or what was already true before anything was sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
    },
    Discarded {
        reason: String,
        by: String,
        at: DateTime<Utc>,
    },
}

impl OutboxState {
    /// Done or discarded: nothing more will happen to the entry.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            OutboxState::Done { .. } | OutboxState::Discarded { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Held { .. } => "held",
            OutboxState::Done { .. } => "done",
            OutboxState::Discarded { .. } => "discarded",
        }
    }
}

/// One intended write to the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: u64,
    /// The idempotency `ref` (a ULID made when the entry was created).
    #[serde(rename = "ref")]
    pub ref_: String,
    pub tracking_id: Option<TrackingId>,
    pub opd: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub request: WriteRequest,
    #[serde(flatten)]
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// A send's answer was lost: read the complaint back before sending again.
    pub outcome_unknown: bool,
    /// When the first request left (the connector's clock), flushed before it left: the
    /// start of every read-back's evidence window.
    #[serde(default)]
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// When the latest request left.
    #[serde(default)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// What the platform showed just before the first attempt of a disposition or
    /// status change.
    #[serde(default)]
    pub seen_before: Option<SeenBefore>,
    /// The tracking id the platform gave a new complaint (`addstream`), once known.
    #[serde(default)]
    pub created_tracking_id: Option<TrackingId>,
}

/// A complaint's state on the platform as read just before a write's first attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenBefore {
    pub unit: Option<String>,
    pub status: Status,
    pub diperbarui: DateTime<Utc>,
}

impl SeenBefore {
    pub fn of(c: &Complaint) -> SeenBefore {
        SeenBefore {
            unit: c.unit.as_ref().map(|u| u.id.clone()),
            status: c.status,
            diperbarui: c.diperbarui,
        }
    }
}

/// An outbox entry as a caller asks for it; the store assigns `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutboxEntry {
    pub opd: String,
    pub requested_by: String,
    /// Its `ref_` is the entry's ref; make it with [`new_ref`].
    pub request: WriteRequest,
}

/// A fresh idempotency ref (ULID).
pub fn new_ref() -> String {
    ulid::Ulid::new().to_string()
}

/// A stored API token (only the hash of the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub name: String,
    /// `admin`, `opd:CODE` or `viewer`.
    pub role: String,
    /// SHA-256 of the secret, hex ([`hash_secret`]).
    pub hash: String,
    pub created: DateTime<Utc>,
}

/// SHA-256 hex of a token secret, as stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The last run of a scheduled job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    pub job: String,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub outcome: Option<RunOutcome>,
    pub report_id: Option<u64>,
}

/// What one page (or one repair) writes, atomically.
#[derive(Clone, Debug, Default)]
pub struct PageCommit {
    /// Records to write, each with the events to append to its history.
    pub upserts: Vec<(StoredComplaint, Vec<EventKind>)>,
    pub set_aside: Vec<NewQuarantine>,
    /// The advanced cursor; `None` leaves it.
    pub cursor: Option<StreamKey>,
    /// Outbox entries queued with these records (auto-disposition).
    pub outbox: Vec<NewOutboxEntry>,
    /// The run these belong to (recorded on set-aside items).
    pub run_id: Option<u64>,
}

//! The domain types every stage shares: a complaint as the platform describes it, its
//! thread, statuses and their labels, topics and units, and the timestamp rules of the
//! contract (RFC 3339 with any offset, or the legacy `YYYY-MM-DD HH:MM:SS` in WIB; held in
//! UTC, shown in WIB).
//!
//! It also owns the write requests ([`WriteRequest`], [`WriteAction`]): what the outbox
//! holds and `upstream` puts on the wire.
//!
//! Nothing here does I/O. Upstream parses into these types, the store persists them, the
//! simulator writes them, routing and SLA clocks read them.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Jakarta;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A complaint's identity on the platform: a decimal integer.
pub type TrackingId = u64;

/// The zone every person-facing time is shown in (WIB, UTC+7, no daylight saving).
pub const WIB: chrono_tz::Tz = Jakarta;

/// Lifecycle status of a complaint, independent of the labels a deployment uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    BelumTerverifikasi,
    BelumDitindaklanjuti,
    Proses,
    Ditunda,
    BukanWewenang,
    Selesai,
    Arsip,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::BelumTerverifikasi,
        Status::BelumDitindaklanjuti,
        Status::Proses,
        Status::Ditunda,
        Status::BukanWewenang,
        Status::Selesai,
        Status::Arsip,
    ];

    /// The default label the platform writes (see the spec's status table).
    pub fn default_label(self) -> &'static str {
        match self {
            Status::BelumTerverifikasi => "Belum Terverifikasi",
            Status::BelumDitindaklanjuti => "Belum Ditindaklanjuti",
            Status::Proses => "Proses",
            Status::Ditunda => "Ditunda",
            Status::BukanWewenang => "Bukan Wewenang",
            Status::Selesai => "Selesai",
            Status::Arsip => "Arsip",
        }
    }

    /// The stable snake_case key used in configuration, JSON and the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Status::BelumTerverifikasi => "belum_terverifikasi",
            Status::BelumDitindaklanjuti => "belum_ditindaklanjuti",
            Status::Proses => "proses",
            Status::Ditunda => "ditunda",
            Status::BukanWewenang => "bukan_wewenang",
            Status::Selesai => "selesai",
            Status::Arsip => "arsip",
        }
    }

    /// Parses a key (`proses`) or a default label (`Proses`, `Bukan Wewenang`).
    pub fn parse_loose(s: &str) -> Option<Status> {
        let t = s.trim();
        Status::ALL.into_iter().find(|st| {
            st.key().eq_ignore_ascii_case(t)
                || st.default_label().eq_ignore_ascii_case(t)
                || st.key().replace('_', "-").eq_ignore_ascii_case(t)
        })
    }

    /// True for statuses after which nothing more is expected of the instansi.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Status::Selesai | Status::BukanWewenang | Status::Arsip
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default_label())
    }
}

/// The labels a deployment writes for each status. Defaults are the spec's labels;
/// `[upstream.status_labels]` overrides them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLabels {
    labels: [String; 7],
}

impl Default for StatusLabels {
    fn default() -> Self {
        StatusLabels {
            labels: Status::ALL.map(|s| s.default_label().to_string()),
        }
    }
}

impl StatusLabels {
    pub fn set(&mut self, status: Status, label: impl Into<String>) {
        let i = Status::ALL.iter().position(|s| *s == status).unwrap_or(0);
        self.labels[i] = label.into();
    }

    pub fn label(&self, status: Status) -> &str {
        let i = Status::ALL.iter().position(|s| *s == status).unwrap_or(0);
        &self.labels[i]
    }

    /// Exact match on a configured label (surrounding white space ignored).
    pub fn parse(&self, label: &str) -> Option<Status> {
        let t = label.trim();
        Status::ALL
            .into_iter()
            .zip(self.labels.iter())
            .find(|(_, l)| l.as_str() == t)
            .map(|(s, _)| s)
    }
}

/// Who wrote a thread entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Instansi,
    Pelapor,
    Admin,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Instansi => "instansi",
            Author::Pelapor => "pelapor",
            Author::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Author> {
        match s.trim() {
            "instansi" => Some(Author::Instansi),
            "pelapor" => Some(Author::Pelapor),
            "admin" => Some(Author::Admin),
            _ => None,
        }
    }
}

/// Reporter identity. Personal data: never logged, shown only to the administrator and
/// the OPD the complaint is routed to.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reporter {
    pub namadepan: String,
    pub namabelakang: String,
    pub email: String,
    pub telpon: String,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reporter(***)")
    }
}

/// A topic reference on a complaint: the id into the topic tree and its name.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TopicRef {
    pub id: String,
    pub name: String,
}

/// A unit (OPD account) reference on a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
}

/// A Kemendagri region code with its display name.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    pub kode: String,
    pub name: String,
}

/// A reference to an attachment stored on the platform (never the bytes).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attachment {
    pub url: String,
    pub jenis: String,
}

/// One entry of a complaint's thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadEntry {
    pub transaksi_id: String,
    pub oleh: Author,
    pub unit: Option<String>,
    pub waktu: DateTime<Utc>,
    /// The client's `ref`, echoed on follow-ups that the instansi posted.
    pub ref_: Option<String>,
    pub isi: String,
}

/// A complaint as the platform describes it (the `<laporan>` element).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub tracking_id: TrackingId,
    pub rahasia: bool,
    pub anonim: bool,
    pub judul: String,
    pub isi: String,
    pub klasifikasi: Option<String>,
    pub topik: Option<TopicRef>,
    pub tags: Vec<String>,
    pub kanal: Option<String>,
    pub lokasi: Option<Location>,
    pub pelapor: Option<Reporter>,
    pub status: Status,
    pub unit: Option<UnitRef>,
    pub dibuat: Option<DateTime<Utc>>,
    pub diperbarui: DateTime<Utc>,
    pub lampiran: Vec<Attachment>,
    pub thread: Vec<ThreadEntry>,
}

impl Complaint {
    /// The complaint's keyset position in the stream.
    pub fn key(&self) -> StreamKey {
        StreamKey {
            sejak: self.diperbarui,
            setelah: Some(self.tracking_id),
        }
    }

    /// The kapanewon code (`34.01.xx`) of its location, if any.
    pub fn kapanewon_code(&self) -> Option<&str> {
        let kode = &self.lokasi.as_ref()?.kode;
        kode.get(..8).filter(|k| k.len() == 8)
    }

    /// A copy without reporter identity and, for rahasia complaints, without content.
    /// This is what roles that may not see personal data receive.
    pub fn redacted(&self) -> Complaint {
        let mut c = self.clone();
        c.pelapor = None;
        if c.rahasia {
            c.isi = RAHASIA_PLACEHOLDER.to_string();
            for t in &mut c.thread {
                t.isi = RAHASIA_PLACEHOLDER.to_string();
            }
            c.lampiran.clear();
        }
        c
    }
}

/// What replaces rahasia content for those who may not read it.
pub const RAHASIA_PLACEHOLDER: &str = "[RAHASIA: isi hanya untuk administrator dan OPD tujuan]";

/// A position in the stream: `(diperbarui, trackingid)`, compared in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamKey {
    pub sejak: DateTime<Utc>,
    /// `None` means "everything at `sejak` and later".
    pub setelah: Option<TrackingId>,
}

impl StreamKey {
    pub fn since(sejak: DateTime<Utc>) -> Self {
        StreamKey {
            sejak,
            setelah: None,
        }
    }

    /// True when an item with key `(diperbarui, id)` comes after this position.
    pub fn admits(&self, diperbarui: DateTime<Utc>, id: TrackingId) -> bool {
        match self.setelah {
            None => diperbarui >= self.sejak,
            Some(after) => (diperbarui, id) > (self.sejak, after),
        }
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_wib(self.sejak))?;
        if let Some(id) = self.setelah {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

/// A node of the topic tree (`gettopics`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub id: String,
    /// `"0"` at the root.
    pub parent: String,
    pub name: String,
}

/// A unit (OPD account) under the instansi (`getunits`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// A complaint the instansi submits itself (`addstream`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComplaint {
    pub rahasia: bool,
    pub anonim: bool,
    pub pelapor: Option<Reporter>,
    pub judul: String,
    pub isi: String,
    pub topik_id: Option<String>,
    pub lokasi_kode: Option<String>,
    pub kanal: Option<String>,
}

/// Parses a timestamp of the contract: RFC 3339 with any offset or `Z`, or the legacy
/// `YYYY-MM-DD HH:MM:SS`, which is Asia/Jakarta time.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, BadTimestamp> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") {
        // WIB has no daylight saving, so every local time maps to exactly one instant.
        if let Some(dt) = WIB.from_local_datetime(&naive).single() {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    Err(BadTimestamp(t.to_string()))
}

/// A text that is not a timestamp of the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a timestamp (expected RFC 3339 like 2026-11-21T10:00:00+07:00, or 2026-11-21 10:00:00)"
)]
pub struct BadTimestamp(pub String);

/// Formats an instant as the platform writes it: RFC 3339 in WIB (`+07:00`).
pub fn format_wib(t: DateTime<Utc>) -> String {
    t.with_timezone(&WIB)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Formats an instant for people: `2026-11-21 10:00 WIB`.
pub fn format_wib_short(t: DateTime<Utc>) -> String {
    t.with_timezone(&WIB)
        .format("%Y-%m-%d %H:%M WIB")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Write requests: what the connector asks the platform to change (the outbox holds them;
// `upstream` writes them on the wire).
// ---------------------------------------------------------------------------------------

/// A write the instansi asks the platform to apply, with the caller's idempotency `ref`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteRequest {
    #[serde(rename = "ref")]
    pub ref_: String,
    pub action: WriteAction,
}

/// The four writes of the contract (endpoints 5–8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WriteAction {
    Disposisi {
        tracking_id: TrackingId,
        unit: String,
        catatan: String,
    },
    TindakLanjut {
        tracking_id: TrackingId,
        unit: String,
        isi: String,
    },
    SetStatus {
        tracking_id: TrackingId,
        nilai: Status,
        alasan: String,
    },
    AddStream {
        laporan: NewComplaint,
    },
}

impl WriteAction {
    /// The complaint it acts on; `None` for a new complaint.
    pub fn tracking_id(&self) -> Option<TrackingId> {
        match self {
            WriteAction::Disposisi { tracking_id, .. }
            | WriteAction::TindakLanjut { tracking_id, .. }
            | WriteAction::SetStatus { tracking_id, .. } => Some(*tracking_id),
            WriteAction::AddStream { .. } => None,
        }
    }

    /// The short name used in logs, reports and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            WriteAction::Disposisi { .. } => "disposisi",
            WriteAction::TindakLanjut { .. } => "tindaklanjut",
            WriteAction::SetStatus { .. } => "setstatus",
            WriteAction::AddStream { .. } => "addstream",
        }
    }
}

/// True when `r` is a valid `ref`: 1 to 64 characters of `[A-Za-z0-9._-]`.
pub fn valid_ref(r: &str) -> bool {
    (1..=64).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_accept_offsets_z_and_legacy_wib() {
        let a = parse_timestamp("2026-11-21T10:00:00+07:00").unwrap();
        let b = parse_timestamp("2026-11-21T03:00:00Z").unwrap();
        let c = parse_timestamp("2026-11-21 10:00:00").unwrap();
        let d = parse_timestamp("2026-11-21T04:00:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(format_wib(a), "2026-11-21T10:00:00+07:00");
        assert!(parse_timestamp("21/11/2026").is_err());
        assert!(parse_timestamp("").is_err());
    }

    #[test]
    fn keyset_admits_strictly_after() {
        let t = parse_timestamp("2026-11-21T10:00:00+07:00").unwrap();
        let k = StreamKey {
            sejak: t,
            setelah: Some(100),
        };
        assert!(!k.admits(t, 100));
        assert!(!k.admits(t, 99));
        assert!(k.admits(t, 101));
        assert!(k.admits(t + chrono::Duration::seconds(1), 1));
        assert!(StreamKey::since(t).admits(t, 1));
    }

    #[test]
    fn labels_are_configurable() {
        let mut l = StatusLabels::default();
        assert_eq!(l.parse("Bukan Wewenang"), Some(Status::BukanWewenang));
        l.set(Status::Selesai, "Selesai Ditindaklanjuti");
        assert_eq!(l.parse("Selesai Ditindaklanjuti"), Some(Status::Selesai));
        assert_eq!(l.parse("Selesai"), None);
        assert_eq!(
            Status::parse_loose("bukan-wewenang"),
            Some(Status::BukanWewenang)
        );
    }

    #[test]
    fn reporter_debug_hides_identity() {
        let r = Reporter {
            namadepan: "Sri".into(),
            namabelakang: "Lestari".into(),
            email: "sri@example.org".into(),
            telpon: "0812".into(),
        };
        assert_eq!(format!("{r:?}"), "Reporter(***)");
    }
}

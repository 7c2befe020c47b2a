//! The rules of the push stage that need no I/O: when to try again, what counts as
//! evidence that a write took effect, whether its target already holds, and whether a
//! local action fits a complaint.
//!
//! Evidence follows the contract's table ("Writes"): the echoed `ref` where the platform
//! echoes it; otherwise the write's *effect*, inside a window that starts at the first
//! attempt (less the allowed clock skew). A thread entry or a new complaint that another
//! outbox entry already claimed as its own is never evidence for a second one, so two
//! intended follow-ups with the same text each need their own entry on the thread.

use crate::model::{Author, Complaint, NewComplaint, Status, TrackingId};
use crate::store::SeenBefore;
use crate::upstream::WriteAction;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;

/// Longest text of a follow-up, reason or note (the platform's limit for `<isi>`).
pub const MAX_TEXT_CHARS: usize = 10_000;

/// The wait before attempt number `attempts + 1`: exponential from `initial`, capped at
/// `max`, with ±20% jitter drawn from `jitter_seed` so many entries do not retry in step.
pub fn backoff(attempts: u32, initial_s: u64, max_s: u64, jitter_seed: u64) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let base = initial_s.saturating_mul(1u64 << exp).min(max_s) as f64;
    // splitmix64 of the seed gives a stable fraction in [0, 1).
    let mut z = jitter_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let frac = (z >> 11) as f64 / (1u64 << 53) as f64;
    let secs = (base * (0.8 + 0.4 * frac)).min(max_s as f64).max(1.0);
    Duration::milliseconds((secs * 1000.0) as i64)
}

/// Clock skew allowed between the connector and the platform when a platform time is
/// compared with the first attempt ("a few minutes", says the contract).
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 300;

/// How long a new complaint may take to show in the stream after it was made (the
/// contract's late visibility: up to 5 minutes).
pub const DEFAULT_VISIBILITY_DELAY_SECONDS: u64 = 300;

/// What a read-back of the complaint says about a write whose answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// The write is on the platform; `evidence` says what showed it.
    Applied {
        transaksi_id: Option<String>,
        evidence: String,
    },
    /// Nothing of it is there and nothing could hide it: sending it is safe.
    NotApplied { seen: String },
    /// The complaint changed since the first attempt in a way that could hide the write:
    /// neither resend nor count as done; a person decides, with what was seen.
    CannotTell { seen: String },
}

/// The facts a read-back is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// Start of the evidence window: the first attempt (the connector's clock) less the
    /// allowed clock skew.
    pub since: DateTime<Utc>,
    /// What the platform showed just before the first attempt, when it was read.
    pub before: Option<&'a SeenBefore>,
    /// Thread entries (`transaksiid`) other outbox entries already took as their own.
    pub claimed: &'a HashSet<String>,
}

/// Text as the contract compares it: trimmed, line ends normalised to `\n`.
pub fn normalise_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// If the target of a disposition or status change already holds on the platform, what
/// was seen (the entry is then closed as already true, and nothing is sent).
pub fn already_true(action: &WriteAction, c: &Complaint) -> Option<String> {
    let when = crate::model::format_wib(c.diperbarui);
    match action {
        WriteAction::Disposisi { unit, .. } => {
            c.unit.as_ref().filter(|u| &u.id == unit).map(|_| {
                format!(
                    "sudah berlaku di platform: laporan sudah di unit {unit} (diperbarui {when})"
                )
            })
        }
        WriteAction::SetStatus { nilai, .. } => (c.status == *nilai).then(|| {
            format!("sudah berlaku di platform: status sudah {nilai} (diperbarui {when})")
        }),
        _ => None,
    }
}

/// The complaint changed on the platform since the first attempt (platform times have
/// whole seconds, so a change in the same second as the read before cannot be told from
/// that read: the window is what decides).
fn changed_since(c: &Complaint, w: &Window<'_>) -> bool {
    c.diperbarui >= w.since
}

/// Decides, from the complaint as the platform shows it now, whether `action` (sent with
/// `ref_`, answer lost) took effect. See the contract's evidence table.
pub fn read_back(action: &WriteAction, ref_: &str, c: &Complaint, w: &Window<'_>) -> ReadBack {
    if let Some(t) = c.thread.iter().find(|t| t.ref_.as_deref() == Some(ref_)) {
        return ReadBack::Applied {
            transaksi_id: Some(t.transaksi_id.clone()),
            evidence: format!("ref {ref_} pada utas ({})", t.transaksi_id),
        };
    }
    let since = crate::model::format_wib(w.since);
    let when = crate::model::format_wib(c.diperbarui);
    let changed = changed_since(c, w);
    match action {
        WriteAction::TindakLanjut { unit, isi, .. } => {
            let want = normalise_text(isi);
            let hit = c
                .thread
                .iter()
                .filter(|t| {
                    t.oleh == Author::Instansi
                        && t.unit.as_deref() == Some(unit.as_str())
                        && t.waktu >= w.since
                        && !w.claimed.contains(&t.transaksi_id)
                        && normalise_text(&t.isi) == want
                })
                .min_by_key(|t| t.waktu);
            match hit {
                Some(t) => ReadBack::Applied {
                    transaksi_id: Some(t.transaksi_id.clone()),
                    evidence: format!(
                        "tindak lanjut {} unit {unit} pukul {} dengan teks yang sama",
                        t.transaksi_id,
                        crate::model::format_wib(t.waktu)
                    ),
                },
                None => ReadBack::NotApplied {
                    seen: format!(
                        "tidak ada tindak lanjut unit {unit} dengan teks ini sejak {since}"
                    ),
                },
            }
        }
        WriteAction::Disposisi { unit, .. } => {
            let now = c.unit.as_ref().map(|u| u.id.as_str());
            let seen = format!("unit {} (diperbarui {when})", now.unwrap_or("-"));
            if now == Some(unit.as_str()) && changed {
                ReadBack::Applied {
                    transaksi_id: None,
                    evidence: format!("{seen}, berubah sejak percobaan pertama"),
                }
            } else if now != Some(unit.as_str())
                && (!changed || w.before.is_some_and(|b| b.unit.as_deref() == now))
            {
                // Unchanged since before the attempt, or changed by something else (a
                // reply, say) while the unit stayed what it was.
                ReadBack::NotApplied { seen }
            } else {
                ReadBack::CannotTell { seen }
            }
        }
        WriteAction::SetStatus { nilai, .. } => {
            let seen = format!("status {} (diperbarui {when})", c.status);
            let reply_since = c
                .thread
                .iter()
                .any(|t| t.oleh != Author::Instansi && t.waktu >= w.since);
            if c.status == *nilai && changed {
                ReadBack::Applied {
                    transaksi_id: None,
                    evidence: format!("{seen}, berubah sejak percobaan pertama"),
                }
            } else if c.status != *nilai
                && (!changed || w.before.is_some_and(|b| b.status == c.status) && !reply_since)
            {
                // Unchanged since before the attempt, or changed without leaving the
                // status it had and with no reply that could have reopened it.
                ReadBack::NotApplied { seen }
            } else {
                // Another status, or a reply that could have reopened it after ours.
                ReadBack::CannotTell { seen }
            }
        }
        WriteAction::AddStream { .. } => ReadBack::CannotTell {
            seen: "a new complaint is read back from the stream, not from one complaint".into(),
        },
    }
}

/// The complaint in `stream` that a lost `addstream` of `l` made: same `judul`, `isi` and
/// `kanal`, created inside the window, not claimed by another entry. The earliest wins.
pub fn find_submitted<'a>(
    l: &NewComplaint,
    stream: impl IntoIterator<Item = &'a Complaint>,
    since: DateTime<Utc>,
    claimed: &HashSet<TrackingId>,
) -> Option<&'a Complaint> {
    let (judul, isi) = (normalise_text(&l.judul), normalise_text(&l.isi));
    stream
        .into_iter()
        .filter(|c| {
            !claimed.contains(&c.tracking_id)
                && c.dibuat.is_some_and(|d| d >= since)
                && normalise_text(&c.judul) == judul
                && normalise_text(&c.isi) == isi
                && (l.kanal.is_none() || c.kanal == l.kanal)
        })
        .min_by_key(|c| (c.dibuat, c.tracking_id))
}

/// The statuses from which the platform accepts `nilai` (the contract's `setstatus`).
pub fn status_allowed_from(nilai: Status) -> &'static [Status] {
    match nilai {
        Status::Selesai => &[Status::Proses],
        Status::Ditunda => &[Status::BelumDitindaklanjuti],
        Status::BukanWewenang => &[Status::BelumDitindaklanjuti, Status::Proses],
        _ => &[],
    }
}

/// Statuses in which follow-ups and dispositions are accepted.
pub const OPEN_FOR_WORK: [Status; 2] = [Status::BelumDitindaklanjuti, Status::Proses];

/// Checks a text a person typed for a follow-up or a reason.
/// A local input the contract does not accept, with what to change (never retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAccepted(pub String);

pub fn check_text(what: &str, text: &str) -> Result<(), NotAccepted> {
    let n = text.trim().chars().count();
    if n == 0 {
        return Err(NotAccepted(format!(
            "the {what} is empty: write what was done"
        )));
    }
    let total = text.chars().count();
    if total > MAX_TEXT_CHARS {
        return Err(NotAccepted(format!(
            "the {what} has {total} characters; the platform accepts at most {MAX_TEXT_CHARS}: shorten it"
        )));
    }
    crate::push::input::check_chars(what, text)
}

/// Checks that a status change fits the complaint's current status.
pub fn check_status_change(current: Status, nilai: Status) -> Result<(), NotAccepted> {
    let from = status_allowed_from(nilai);
    if from.is_empty() {
        return Err(NotAccepted(format!(
            "'{nilai}' cannot be set by the instansi: choose selesai, ditunda or bukan_wewenang"
        )));
    }
    if !from.contains(&current) {
        let allowed: Vec<String> = from.iter().map(|s| format!("'{s}'")).collect();
        return Err(NotAccepted(format!(
            "the complaint is '{current}'; '{nilai}' is accepted only from {}",
            allowed.join(" or ")
        )));
    }
    Ok(())
}

/// When the next attempt may be made after a temporary failure.
pub fn next_attempt(
    now: DateTime<Utc>,
    attempts: u32,
    retry_after: Option<std::time::Duration>,
    initial_s: u64,
    max_s: u64,
    seed: u64,
) -> DateTime<Utc> {
    match retry_after {
        Some(d) => now + Duration::from_std(d).unwrap_or(Duration::seconds(max_s as i64)),
        None => now + backoff(attempts, initial_s, max_s, seed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ThreadEntry, UnitRef};
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn complaint(unit: Option<&str>, status: Status, diperbarui: DateTime<Utc>) -> Complaint {
        Complaint {
            tracking_id: 1916449,
            rahasia: false,
            anonim: true,
            judul: "Jalan berlubang".into(),
            isi: "Mohon ditambal.".into(),
            klasifikasi: None,
            topik: None,
            tags: vec![],
            kanal: Some("web".into()),
            lokasi: None,
            pelapor: None,
            status,
            unit: unit.map(|u| UnitRef {
                id: u.into(),
                name: String::new(),
            }),
            dibuat: Some(t(-600)),
            diperbarui,
            lampiran: vec![],
            thread: vec![],
        }
    }

    fn entry(tx: &str, oleh: Author, unit: &str, waktu: DateTime<Utc>, isi: &str) -> ThreadEntry {
        ThreadEntry {
            transaksi_id: tx.into(),
            oleh,
            unit: Some(unit.into()),
            waktu,
            ref_: None,
            isi: isi.into(),
        }
    }

    /// The first attempt at t(0), five minutes of skew allowed.
    fn window<'a>(before: Option<&'a SeenBefore>, claimed: &'a HashSet<String>) -> Window<'a> {
        Window {
            since: t(0) - Duration::minutes(5),
            before,
            claimed,
        }
    }

    fn tl(isi: &str) -> WriteAction {
        WriteAction::TindakLanjut {
            tracking_id: 1916449,
            unit: "2417".into(),
            isi: isi.into(),
        }
    }

    #[test]
    fn a_follow_up_is_found_by_unit_text_and_time_and_only_once() {
        let none = HashSet::new();
        let mut c = complaint(Some("2417"), Status::Proses, t(1));
        // Same text before the window, another unit, another author: no evidence.
        c.thread = vec![
            entry("TL-1", Author::Instansi, "2417", t(-30), "Sudah ditambal."),
            entry("TL-2", Author::Instansi, "2401", t(1), "Sudah ditambal."),
            entry("TL-3", Author::Pelapor, "2417", t(1), "Sudah ditambal."),
        ];
        let a = tl("  Sudah ditambal.\r\n");
        assert!(matches!(
            read_back(&a, "r1", &c, &window(None, &none)),
            ReadBack::NotApplied { .. }
        ));
        // Two minutes behind our clock is inside the skew allowance.
        c.thread.push(entry(
            "TL-4",
            Author::Instansi,
            "2417",
            t(-2),
            "Sudah ditambal.",
        ));
        match read_back(&a, "r1", &c, &window(None, &none)) {
            ReadBack::Applied { transaksi_id, .. } => assert_eq!(transaksi_id.unwrap(), "TL-4"),
            other => panic!("{other:?}"),
        }
        // Claimed by another entry: not evidence for this one.
        let claimed: HashSet<String> = ["TL-4".to_string()].into();
        assert!(matches!(
            read_back(&a, "r1", &c, &window(None, &claimed)),
            ReadBack::NotApplied { .. }
        ));
        // An echoed ref decides at once.
        c.thread[0].ref_ = Some("r1".into());
        match read_back(&a, "r1", &c, &window(None, &claimed)) {
            ReadBack::Applied { transaksi_id, .. } => assert_eq!(transaksi_id.unwrap(), "TL-1"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_disposition_needs_its_unit_and_a_change_inside_the_window() {
        let none = HashSet::new();
        let d = WriteAction::Disposisi {
            tracking_id: 1916449,
            unit: "2417".into(),
            catatan: "Mohon ditindaklanjuti.".into(),
        };
        let before = SeenBefore {
            unit: Some("2401".into()),
            status: Status::BelumDitindaklanjuti,
            diperbarui: t(-60),
        };
        let w = window(Some(&before), &none);
        let c = complaint(Some("2417"), Status::BelumDitindaklanjuti, t(0));
        assert!(matches!(
            read_back(&d, "r", &c, &w),
            ReadBack::Applied { .. }
        ));
        // Unchanged since before the attempt: not applied.
        let c = complaint(Some("2401"), Status::BelumDitindaklanjuti, t(-60));
        assert!(matches!(
            read_back(&d, "r", &c, &w),
            ReadBack::NotApplied { .. }
        ));
        // Changed (a reply, say) but the unit is what it was: not applied.
        let c = complaint(Some("2401"), Status::BelumDitindaklanjuti, t(3));
        assert!(matches!(
            read_back(&d, "r", &c, &w),
            ReadBack::NotApplied { .. }
        ));
        // Moved to a third unit after the attempt: ours may have landed first.
        let c = complaint(Some("2433"), Status::BelumDitindaklanjuti, t(3));
        assert!(matches!(
            read_back(&d, "r", &c, &w),
            ReadBack::CannotTell { .. }
        ));
        // The target, but unchanged since long before: not this write's doing.
        let c = complaint(Some("2417"), Status::BelumDitindaklanjuti, t(-60));
        assert!(matches!(
            read_back(&d, "r", &c, &w),
            ReadBack::CannotTell { .. }
        ));
    }

    #[test]
    fn a_status_change_that_a_reply_could_have_undone_cannot_be_told() {
        let none = HashSet::new();
        let s = WriteAction::SetStatus {
            tracking_id: 1916449,
            nilai: Status::Selesai,
            alasan: "Selesai.".into(),
        };
        let before = SeenBefore {
            unit: Some("2417".into()),
            status: Status::Proses,
            diperbarui: t(-60),
        };
        let w = window(Some(&before), &none);
        let c = complaint(Some("2417"), Status::Selesai, t(0));
        assert!(matches!(
            read_back(&s, "r", &c, &w),
            ReadBack::Applied { .. }
        ));
        let c = complaint(Some("2417"), Status::Proses, t(-60));
        assert!(matches!(
            read_back(&s, "r", &c, &w),
            ReadBack::NotApplied { .. }
        ));
        // Back in Proses after a reporter reply inside the window: a reply reopens a
        // closed complaint, so ours may have been applied and undone.
        let mut c = complaint(Some("2417"), Status::Proses, t(4));
        c.thread = vec![entry("TL-9", Author::Pelapor, "2417", t(4), "Belum beres.")];
        assert!(matches!(
            read_back(&s, "r", &c, &w),
            ReadBack::CannotTell { .. }
        ));
        // Archived meanwhile: cannot tell either.
        let c = complaint(Some("2417"), Status::Arsip, t(4));
        assert!(matches!(
            read_back(&s, "r", &c, &w),
            ReadBack::CannotTell { .. }
        ));
    }

    #[test]
    fn already_true_names_what_was_seen() {
        let c = complaint(Some("2417"), Status::Selesai, t(0));
        let d = WriteAction::Disposisi {
            tracking_id: 1,
            unit: "2417".into(),
            catatan: String::new(),
        };
        assert!(already_true(&d, &c).unwrap().contains("unit 2417"));
        let s = WriteAction::SetStatus {
            tracking_id: 1,
            nilai: Status::Selesai,
            alasan: String::new(),
        };
        assert!(
            already_true(&s, &c)
                .unwrap()
                .contains("status sudah Selesai")
        );
        let other = complaint(Some("2401"), Status::Proses, t(0));
        assert!(already_true(&d, &other).is_none() && already_true(&s, &other).is_none());
        assert!(already_true(&tl("x"), &c).is_none());
    }

    #[test]
    fn a_submission_is_found_by_title_text_and_channel_unclaimed() {
        let l = NewComplaint {
            rahasia: false,
            anonim: true,
            pelapor: None,
            judul: "Jalan berlubang".into(),
            isi: "Mohon ditambal.".into(),
            topik_id: None,
            lokasi_kode: None,
            kanal: Some("web".into()),
        };
        let mut old = complaint(None, Status::BelumTerverifikasi, t(-60));
        old.tracking_id = 10;
        old.dibuat = Some(t(-60));
        let mut other_channel = complaint(None, Status::BelumTerverifikasi, t(1));
        other_channel.tracking_id = 11;
        other_channel.dibuat = Some(t(1));
        other_channel.kanal = Some("sms1708".into());
        let mut a = complaint(None, Status::BelumTerverifikasi, t(1));
        a.tracking_id = 12;
        a.dibuat = Some(t(1));
        let mut b = a.clone();
        b.tracking_id = 13;
        b.dibuat = Some(t(2));
        let since = t(0) - Duration::minutes(5);
        let all = [old, other_channel, a, b];
        let none = HashSet::new();
        assert_eq!(
            find_submitted(&l, &all, since, &none).unwrap().tracking_id,
            12
        );
        let claimed: HashSet<TrackingId> = [12].into();
        assert_eq!(
            find_submitted(&l, &all, since, &claimed)
                .unwrap()
                .tracking_id,
            13
        );
        let claimed: HashSet<TrackingId> = [12, 13].into();
        assert!(find_submitted(&l, &all, since, &claimed).is_none());
    }

    #[test]
    fn backoff_grows_to_the_cap_with_bounded_jitter() {
        let first = backoff(1, 30, 1800, 7).num_seconds();
        assert!((24..=36).contains(&first), "{first}");
        let fourth = backoff(4, 30, 1800, 7).num_seconds();
        assert!((192..=288).contains(&fourth), "{fourth}");
        for seed in 0..50 {
            assert!(backoff(30, 30, 1800, seed).num_seconds() <= 1800);
        }
        assert_ne!(backoff(3, 30, 1800, 1), backoff(3, 30, 1800, 2));
    }

    #[test]
    fn status_rules_follow_the_contract() {
        assert!(check_status_change(Status::Proses, Status::Selesai).is_ok());
        let e = check_status_change(Status::BelumDitindaklanjuti, Status::Selesai).unwrap_err();
        assert!(e.0.contains("only from 'Proses'"), "{e}");
        assert!(check_status_change(Status::BelumDitindaklanjuti, Status::Ditunda).is_ok());
        assert!(check_status_change(Status::Proses, Status::BukanWewenang).is_ok());
        assert!(check_status_change(Status::Selesai, Status::BukanWewenang).is_err());
        assert!(check_status_change(Status::Proses, Status::Arsip).is_err());
    }

    #[test]
    fn text_limits() {
        assert!(check_text("follow-up", "  ").is_err());
        assert!(check_text("follow-up", "Sudah ditambal.").is_ok());
        assert!(check_text("follow-up", &"a".repeat(10_000)).is_ok());
        assert!(check_text("follow-up", &"a".repeat(10_001)).is_err());
    }
}

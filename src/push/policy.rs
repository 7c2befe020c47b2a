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
            } else if !changed && now != Some(unit.as_str()) {
                ReadBack::NotApplied { seen }
            } else if w.before.is_some_and(|b| b.unit.as_deref() == now) {
                // Changed by something else (a reply, say); the unit is what it was.
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
            } else if !changed && c.status != *nilai {
                ReadBack::NotApplied { seen }
            } else if w.before.is_some_and(|b| b.status == c.status) && !reply_since {
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
pub fn check_text(what: &str, text: &str) -> Result<(), String> {
    let n = text.trim().chars().count();
    if n == 0 {
        return Err(format!("the {what} is empty: write what was done"));
    }
    let total = text.chars().count();
    if total > MAX_TEXT_CHARS {
        return Err(format!(
            "the {what} has {total} characters; the platform accepts at most {MAX_TEXT_CHARS}: shorten it"
        ));
    }
    Ok(())
}

/// Checks that a status change fits the complaint's current status.
pub fn check_status_change(current: Status, nilai: Status) -> Result<(), String> {
    let from = status_allowed_from(nilai);
    if from.is_empty() {
        return Err(format!(
            "'{nilai}' cannot be set by the instansi: choose selesai, ditunda or bukan_wewenang"
        ));
    }
    if !from.contains(&current) {
        let allowed: Vec<String> = from.iter().map(|s| format!("'{s}'")).collect();
        return Err(format!(
            "the complaint is '{current}'; '{nilai}' is accepted only from {}",
            allowed.join(" or ")
        ));
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
        assert!(e.contains("only from 'Proses'"), "{e}");
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

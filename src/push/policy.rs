//! The rules of the push stage that need no I/O: when to try again, whether a write's
//! effect is already on the platform, and whether a local action fits a complaint.

use crate::model::{Complaint, Status};
use crate::upstream::WriteAction;
use chrono::{DateTime, Duration, Utc};

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

/// What a read-back of the complaint says about a write whose answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// The write is on the platform (its `ref` on the thread, or its effect).
    Applied { transaksi_id: Option<String> },
    /// Nothing of it is there: sending it is safe.
    NotApplied,
}

/// Looks for `ref_` or the effect of `action` on the complaint as the platform shows it.
pub fn read_back(action: &WriteAction, ref_: &str, c: &Complaint) -> ReadBack {
    if let Some(t) = c.thread.iter().find(|t| t.ref_.as_deref() == Some(ref_)) {
        return ReadBack::Applied {
            transaksi_id: Some(t.transaksi_id.clone()),
        };
    }
    let applied = match action {
        // Follow-ups echo their ref; without it on the thread the follow-up is not there.
        WriteAction::TindakLanjut { .. } => false,
        WriteAction::Disposisi { unit, .. } => c.unit.as_ref().is_some_and(|u| &u.id == unit),
        WriteAction::SetStatus { nilai, .. } => c.status == *nilai,
        WriteAction::AddStream { .. } => false,
    };
    if applied {
        ReadBack::Applied { transaksi_id: None }
    } else {
        ReadBack::NotApplied
    }
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

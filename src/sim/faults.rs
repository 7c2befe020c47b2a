//! Switchable misbehaviour of the simulated platform. [`Faults`] is plain data (set by
//! flags at start, by the Rust API or by `POST /faults` on the control API); the
//! [`FaultState`] decides, request by request, which fault applies. Decisions are
//! deterministic: "every k-th request" counters and a one-shot script, counted from the
//! moment the faults were set, and a seeded generator for visibility delays.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One way a single request can go wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 with an `INTERNAL` envelope.
    Internal,
    /// HTTP 503 with a `MAINTENANCE` envelope and `Retry-After`.
    Maintenance,
    /// HTTP 429 with a `RATE_LIMITED` envelope and `Retry-After`.
    RateLimited,
    /// The connection stays open and no answer ever comes (until shutdown).
    Hang,
    /// An HTML maintenance page instead of XML/JSON.
    Html,
    /// A `MAINTENANCE` error envelope with HTTP 200.
    Error200,
    /// The body is cut in the middle.
    Truncate,
    /// Writes only: the write is applied, then no answer ever comes.
    ApplyThenHang,
    /// Writes only: the write is applied, then the connection is dropped in the middle
    /// of the answer.
    ApplyThenDrop,
}

/// A one-shot fault for one coming request, optionally only for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedFault {
    pub kind: FaultKind,
    /// An endpoint name (`getstream`, `adddisposisi`, …), `write` for any of the four
    /// writes, or `None` for any API request.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// The faults in force. `Default` is a well-behaved platform. All `*_every` fields count
/// API requests (both APIs) from the moment the faults were set; `0` turns one off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Every k-th request answers HTTP 500 `INTERNAL`.
    pub internal_every: u32,
    /// Every k-th request answers HTTP 503 `MAINTENANCE` with `Retry-After`.
    pub maintenance_every: u32,
    /// Every k-th request starts a burst of `rate_limit_burst` HTTP 429 answers.
    pub rate_limit_every: u32,
    /// Length of each 429 burst (at least 1 when `rate_limit_every` is set).
    pub rate_limit_burst: u32,
    /// The `Retry-After` seconds sent with 429 and 503 (default 0 means 1).
    pub retry_after_seconds: u64,
    /// Every k-th request hangs (no answer until shutdown).
    pub hang_every: u32,
    /// Every k-th request gets an HTML maintenance page (alternately HTTP 200 and 502).
    pub html_every: u32,
    /// Every k-th request gets an error envelope with HTTP 200.
    pub error_200_every: u32,
    /// Every k-th request gets a truncated body.
    pub truncate_every: u32,
    /// Every k-th `<laporan>` served by getstream is malformed (alternately without
    /// trackingid and with a bad `<diperbarui>`); the rest of the page is good.
    pub malformed_item_every: u32,
    /// Every update becomes visible in getstream only after a delay drawn from
    /// 0..=this many seconds after its `diperbarui` (the spec allows up to 300).
    pub late_visibility_max_seconds: u64,
    /// Older deployments: `ref` is neither deduplicated nor echoed on follow-ups.
    pub ignore_ref: bool,
    /// When a page is full, the first item of the next page is also delivered at the end
    /// of this page (it then appears on two consecutive pages).
    pub duplicate_delivery: bool,
    /// Every k-th write is applied and then hangs without answering.
    pub apply_then_hang_every: u32,
    /// Every k-th write is applied and then its connection is dropped mid-answer.
    pub apply_then_drop_every: u32,
    /// The data API writes ids (and `active`) as JSON numbers instead of strings.
    pub numeric_ids: bool,
    /// Units served as `active: "0"`; dispositions and follow-ups naming them fail with
    /// `VALIDATION`.
    pub inactive_units: Vec<String>,
    /// Topic id -> the name `gettopics` serves instead (a topic renamed upstream).
    pub renamed_topics: std::collections::BTreeMap<String, String>,
    /// One-shot faults for the coming requests, in order.
    pub script: Vec<ScriptedFault>,
}

/// The per-request decision state behind [`Faults`].
#[derive(Debug, Default)]
pub struct FaultState {
    pub faults: Faults,
    script: VecDeque<ScriptedFault>,
    requests: u64,
    writes: u64,
    items_served: u64,
    html_served: u64,
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        FaultState {
            script: faults.script.iter().cloned().collect(),
            faults,
            ..FaultState::default()
        }
    }

    /// How many one-shot scripted faults have not fired yet.
    pub fn script_left(&self) -> usize {
        self.script.len()
    }

    /// Replaces the faults and restarts every counter.
    pub fn set(&mut self, faults: Faults) {
        *self = FaultState::new(faults);
    }

    /// Decides the fault (if any) for the next request to `endpoint`.
    pub fn next_request(&mut self, endpoint: &str, is_write: bool) -> Option<FaultKind> {
        self.requests += 1;
        if is_write {
            self.writes += 1;
        }
        if let Some(pos) = self.script.iter().position(|s| {
            let endpoint_fits = match s.endpoint.as_deref() {
                None => true,
                Some("write") => is_write,
                Some(e) => e == endpoint,
            };
            let write_only = matches!(s.kind, FaultKind::ApplyThenHang | FaultKind::ApplyThenDrop);
            endpoint_fits && (!write_only || is_write)
        }) {
            return self.script.remove(pos).map(|s| s.kind);
        }
        let n = self.requests;
        let f = &self.faults;
        let every = |k: u32| k > 0 && n % u64::from(k) == 0;
        if f.rate_limit_every > 0
            && n % u64::from(f.rate_limit_every) < u64::from(f.rate_limit_burst.max(1))
            && n >= u64::from(f.rate_limit_every)
        {
            return Some(FaultKind::RateLimited);
        }
        if every(f.internal_every) {
            return Some(FaultKind::Internal);
        }
        if every(f.maintenance_every) {
            return Some(FaultKind::Maintenance);
        }
        if every(f.hang_every) {
            return Some(FaultKind::Hang);
        }
        if every(f.html_every) {
            return Some(FaultKind::Html);
        }
        if every(f.error_200_every) {
            return Some(FaultKind::Error200);
        }
        if every(f.truncate_every) {
            return Some(FaultKind::Truncate);
        }
        if is_write
            && f.apply_then_hang_every > 0
            && self.writes % u64::from(f.apply_then_hang_every) == 0
        {
            return Some(FaultKind::ApplyThenHang);
        }
        if is_write
            && f.apply_then_drop_every > 0
            && self.writes % u64::from(f.apply_then_drop_every) == 0
        {
            return Some(FaultKind::ApplyThenDrop);
        }
        None
    }

    /// For the next `<laporan>` served: `Some(variant)` when it must be malformed.
    pub fn next_item_malformed(&mut self) -> Option<u64> {
        self.items_served += 1;
        let k = u64::from(self.faults.malformed_item_every);
        (k > 0 && self.items_served % k == 0).then(|| self.items_served / k)
    }

    /// The HTTP status of the next HTML page: alternately 200 and 502.
    pub fn next_html_status(&mut self) -> u16 {
        self.html_served += 1;
        if self.html_served % 2 == 1 { 200 } else { 502 }
    }

    pub fn retry_after(&self) -> u64 {
        self.faults.retry_after_seconds.max(1)
    }
}

/// The maintenance page the platform's proxy serves during outages.
pub const MAINTENANCE_HTML: &str = "<!DOCTYPE html>\n<html lang=\"id\"><head><title>LAPOR! - Pemeliharaan Sistem</title></head>\n<body><h1>Mohon maaf, sistem sedang dalam pemeliharaan</h1>\n<p>Silakan coba beberapa saat lagi.</p></body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_k_and_bursts_are_deterministic() {
        let mut s = FaultState::new(Faults {
            internal_every: 3,
            rate_limit_every: 10,
            rate_limit_burst: 2,
            ..Faults::default()
        });
        let got: Vec<_> = (0..12)
            .map(|_| s.next_request("getstream", false))
            .collect();
        assert_eq!(got[2], Some(FaultKind::Internal));
        assert_eq!(got[0], None);
        assert_eq!(got[9], Some(FaultKind::RateLimited));
        assert_eq!(got[10], Some(FaultKind::RateLimited));
        assert_eq!(got[11], Some(FaultKind::Internal));
    }

    #[test]
    fn script_targets_endpoints() {
        let mut s = FaultState::new(Faults {
            script: vec![ScriptedFault {
                kind: FaultKind::ApplyThenHang,
                endpoint: Some("write".into()),
            }],
            ..Faults::default()
        });
        assert_eq!(s.next_request("getstream", false), None);
        assert_eq!(
            s.next_request("addtindaklanjut", true),
            Some(FaultKind::ApplyThenHang)
        );
        assert_eq!(s.next_request("addtindaklanjut", true), None);
    }

    #[test]
    fn apply_then_drop_hits_only_writes() {
        let mut s = FaultState::new(Faults {
            apply_then_drop_every: 2,
            script: vec![ScriptedFault {
                kind: FaultKind::ApplyThenDrop,
                endpoint: None,
            }],
            ..Faults::default()
        });
        assert_eq!(s.next_request("getlaporan", false), None);
        assert_eq!(
            s.next_request("setstatus", true),
            Some(FaultKind::ApplyThenDrop)
        );
        assert_eq!(
            s.next_request("setstatus", true),
            Some(FaultKind::ApplyThenDrop)
        );
        assert_eq!(s.next_request("setstatus", true), None);
    }
}

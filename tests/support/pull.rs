//! Fixtures for the pull tests: a simulator on a driven clock over loopback TLS, a real
//! sled store in a temporary directory, and comparisons against the ground truth.
#![allow(dead_code)]

use sp4n::config::UpstreamConfig;
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::sim::{Faults, GroundTruth, SimHandle};
use sp4n::store::{EventKind, RunReport, Store};
use sp4n::upstream::Client;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

#[allow(unused_imports)]
pub use super::t0;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub store: Store,
    pub client: Client,
}

pub async fn start(seed: u64, complaints: usize, faults: Faults) -> Env {
    start_with(seed, complaints, faults, |_| {}).await
}

pub async fn start_with(
    seed: u64,
    complaints: usize,
    faults: Faults,
    tweak: impl FnOnce(&mut UpstreamConfig),
) -> Env {
    start_full(seed, complaints, faults, None, tweak).await
}

/// `events_per_day`: how busy the simulated platform is (`None`: its default).
pub async fn start_full(
    seed: u64,
    complaints: usize,
    faults: Faults,
    events_per_day: Option<u32>,
    tweak: impl FnOnce(&mut UpstreamConfig),
) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sim = super::start_sim(dir.path(), seed, complaints, faults, events_per_day).await;
    let mut up = sim.upstream_config();
    tweak(&mut up);
    let client = Client::new(&up, sim.token()).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    Env {
        dir,
        sim,
        store,
        client,
    }
}

/// Options for tests: no backoff waits, a generous Retry-After budget.
pub fn opts(mode: Mode) -> PullOptions {
    let mut o = PullOptions::new(mode);
    o.backoff = Duration::ZERO;
    o.wait_budget = Duration::from_secs(30);
    o
}

impl Env {
    pub async fn pull(&self, o: &PullOptions) -> RunReport {
        sp4n::pull::pull(&self.store, &self.client, Arc::new(FallbackRouter), o)
            .await
            .unwrap()
    }

    pub fn truth(&self) -> GroundTruth {
        self.sim.ground_truth()
    }
}

/// Every complaint the platform has (had) for the instansi, in its last visible state.
/// The stream keeps serving a complaint's final update after it left (Bukan Wewenang).
pub fn all(gt: &GroundTruth) -> impl Iterator<Item = &sp4n::model::Complaint> {
    gt.complaints.iter().chain(gt.left_stream.iter())
}

/// Every complaint the platform shows is stored, equal field by field.
pub fn assert_store_has_truth(store: &Store, gt: &GroundTruth) {
    let mut missing = Vec::new();
    let mut differ = Vec::new();
    for c in all(gt) {
        match store.get_complaint(c.tracking_id).unwrap() {
            None => missing.push(c.tracking_id),
            Some(s) if &s.complaint != c => differ.push(c.tracking_id),
            Some(_) => {}
        }
    }
    assert!(
        missing.is_empty() && differ.is_empty(),
        "{} missing (first {:?}), {} differ (first {:?})",
        missing.len(),
        missing.first(),
        differ.len(),
        differ.first()
    );
}

/// Store and ground truth hold exactly the same complaints (no extra ones either).
pub fn assert_store_equals_truth(store: &Store, gt: &GroundTruth) {
    assert_store_has_truth(store, gt);
    let known: HashSet<u64> = gt
        .complaints
        .iter()
        .chain(gt.left_stream.iter())
        .map(|c| c.tracking_id)
        .collect();
    for id in store.complaint_ids().unwrap() {
        assert!(known.contains(&id), "complaint {id} is not on the platform");
    }
}

/// No event recorded twice: one FirstSeen and one Routed per complaint, every thread
/// entry announced at most once, no two identical consecutive status changes.
pub fn assert_no_duplicate_events(store: &Store) {
    for id in store.complaint_ids().unwrap() {
        let events = store.events(id).unwrap();
        let count = |f: &dyn Fn(&EventKind) -> bool| events.iter().filter(|e| f(&e.kind)).count();
        assert_eq!(
            count(&|k| *k == EventKind::FirstSeen),
            1,
            "complaint {id}: {events:?}"
        );
        assert_eq!(
            count(&|k| matches!(k, EventKind::Routed { .. })),
            1,
            "complaint {id}: {events:?}"
        );
        let mut seen = HashSet::new();
        for e in &events {
            if let EventKind::ThreadAdded { transaksi_ids, .. } = &e.kind {
                for t in transaksi_ids {
                    assert!(
                        seen.insert(t.clone()),
                        "complaint {id}: {t} announced twice"
                    );
                }
            }
        }
        for w in events.windows(2) {
            if matches!(w[0].kind, EventKind::StatusChanged { .. }) {
                assert_ne!(
                    w[0].kind, w[1].kind,
                    "complaint {id}: doubled {:?}",
                    w[0].kind
                );
            }
        }
    }
}

/// Every complaint's history as kinds only (no times or sequence numbers).
pub fn histories(store: &Store) -> HashMap<u64, Vec<EventKind>> {
    store
        .complaint_ids()
        .unwrap()
        .into_iter()
        .map(|id| {
            let kinds = store
                .events(id)
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .collect();
            (id, kinds)
        })
        .collect()
}

/// The cursor never passes unseen data: every visible complaint at or before the cursor
/// is stored as the platform has it (or newer).
pub fn assert_cursor_not_past_unseen(store: &Store, gt: &GroundTruth) {
    let Some(cursor) = store.cursor().unwrap() else {
        return;
    };
    for c in all(gt) {
        if c.key() <= cursor {
            let s = store.get_complaint(c.tracking_id).unwrap();
            assert!(
                s.is_some_and(|s| s.complaint.diperbarui >= c.diperbarui),
                "complaint {} at {} is behind the cursor {cursor} but not stored",
                c.tracking_id,
                c.diperbarui
            );
        }
    }
}

/// Writes an `sp4n.toml` in `dir` for the binary: the simulator upstream, the store
/// `dir/<store>`, the shipped mappings.
pub fn write_config(
    dir: &std::path::Path,
    env: &Env,
    store: &str,
    page_size: u32,
) -> std::path::PathBuf {
    let c = super::ConfigFile {
        store: store.into(),
        page_size,
        total_timeout_seconds: Some(10),
        ..Default::default()
    };
    super::write_config(dir, &env.sim, &c)
}

/// A xorshift generator for the crash tests' kill moments: the same seed, the same run.
pub fn kill_moments(seed: u64) -> impl FnMut() -> u64 {
    let mut rng = seed;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    }
}

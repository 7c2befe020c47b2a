//! Fixtures for the push tests: a simulator on a driven clock over loopback TLS (the
//! world changes only through writes and its own rules), a real sled store in a temporary
//! directory filled by a real pull, the shipped mapping files, and helpers to push with a
//! connector clock that moves forward so deferred entries come due without sleeping.
#![allow(dead_code)]

use sp4n::mapping::Mappings;
use sp4n::model::{Status, TrackingId};
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::push::input::{self, Disposition, FollowUp};
use sp4n::sim::{Faults, GroundTruth, SimHandle};
use sp4n::store::{OutboxEntry, OutboxState, Store};
use sp4n::upstream::Client;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

#[allow(unused_imports)]
pub use super::t0;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub store: Store,
    pub client: Client,
    pub mappings: Mappings,
    /// Seconds the connector's clock runs ahead of the simulator's (0: in agreement).
    pub ahead_seconds: Arc<AtomicI64>,
}

pub fn mappings() -> Mappings {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    Mappings::load(&dir).expect("shipped mappings load").0
}

/// A simulator with `complaints` complaints and no random platform events, a store
/// holding all of them (pulled, routed to ADMIN triage).
pub async fn start(seed: u64, complaints: usize, faults: Faults) -> Env {
    start_with_timeout(seed, complaints, faults, 5).await
}

/// Like [`start`], with the client's timeouts (connect, read, total) set to `secs`, so a
/// hanging request costs only that long.
pub async fn start_with_timeout(seed: u64, complaints: usize, faults: Faults, secs: u64) -> Env {
    let dir = tempfile::tempdir().unwrap();
    // Faults are set after the first pull.
    let sim = super::start_sim(dir.path(), seed, complaints, Faults::default(), Some(0)).await;
    let mut up = sim.upstream_config();
    up.connect_timeout_seconds = secs;
    up.read_timeout_seconds = secs;
    up.total_timeout_seconds = secs;
    let client = Client::new(&up, sim.token()).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let env = Env {
        dir,
        sim,
        store,
        client,
        mappings: mappings(),
        ahead_seconds: Arc::new(AtomicI64::new(0)),
    };
    env.pull().await;
    env.sim.set_faults(faults);
    env
}

impl Env {
    pub async fn pull(&self) {
        let mut o = PullOptions::new(Mode::Pull);
        o.backoff = Duration::ZERO;
        o.page_size = 500;
        let r = sp4n::pull::pull(&self.store, &self.client, Arc::new(FallbackRouter), &o)
            .await
            .unwrap();
        assert_eq!(r.set_aside, 0, "{r:?}");
    }

    /// Push options whose clock follows the simulator's (plus `ahead_seconds`). Each call
    /// first moves the simulator two minutes on, and backoff is capped at one minute, so
    /// everything deferred before is due without sleeping.
    pub fn opts(&self) -> PushOptions {
        self.sim.advance(chrono::Duration::minutes(2));
        // Entries are queued on the wall clock, the push runs on the simulator's: a new
        // entry (never attempted) is due at once on either.
        let now = self.sim.now();
        for mut e in self.store.outbox_unfinished().unwrap() {
            if e.attempts == 0 && e.next_attempt_at > now {
                e.next_attempt_at = now;
                self.store.update_entry(&e).unwrap();
            }
        }
        let ahead = self.ahead_seconds.clone();
        let sim_now = self.sim.clock_fn();
        PushOptions {
            wait_budget: Duration::from_secs(30),
            backoff_initial_seconds: 1,
            backoff_max_seconds: 60,
            visibility_delay_seconds: 60,
            clock: Arc::new(move || {
                sim_now() + chrono::Duration::seconds(ahead.load(Ordering::SeqCst))
            }),
            ..PushOptions::default()
        }
    }

    pub async fn push(&self) -> sp4n::push::PushReport {
        sp4n::push::run(&self.store, &self.client, &self.opts())
            .await
            .unwrap()
    }

    /// Pushes until no entry is pending (at most `rounds` runs).
    pub async fn push_until_quiet(&self, rounds: usize) -> Vec<sp4n::push::PushReport> {
        let mut out = Vec::new();
        for _ in 0..rounds {
            let r = self.push().await;
            out.push(r);
            let pending = self
                .store
                .outbox_unfinished()
                .unwrap()
                .iter()
                .filter(|e| e.state == OutboxState::Pending)
                .count();
            if pending == 0 {
                break;
            }
        }
        out
    }

    pub fn truth(&self) -> GroundTruth {
        self.sim.ground_truth()
    }

    /// `n` stored complaints with `status`, lowest tracking ids first.
    pub fn pick(&self, status: Status, n: usize) -> Vec<TrackingId> {
        self.pick_where(n, |s| s == status)
    }

    fn pick_where(&self, n: usize, f: impl Fn(Status) -> bool) -> Vec<TrackingId> {
        self.pick_matching(n, |c| f(c.status))
    }

    fn pick_matching(
        &self,
        n: usize,
        f: impl Fn(&sp4n::model::Complaint) -> bool,
    ) -> Vec<TrackingId> {
        let mut ids: Vec<TrackingId> = self
            .store
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|s| s.in_stream && f(&s.complaint))
            .map(|s| s.tracking_id())
            .collect();
        ids.sort();
        assert!(ids.len() >= n, "only {} complaints fit", ids.len());
        ids.truncate(n);
        ids
    }

    /// `n` stored complaints open for work (Belum Ditindaklanjuti or Proses).
    pub fn pick_open(&self, n: usize) -> Vec<TrackingId> {
        self.pick_where(n, |s| {
            matches!(s, Status::BelumDitindaklanjuti | Status::Proses)
        })
    }

    /// `n` open complaints that the platform has not disposed to DPUPKP's unit (2406), so
    /// a disposition to DPUPKP is a real write, not one already true.
    pub fn pick_open_elsewhere(&self, n: usize) -> Vec<TrackingId> {
        self.pick_matching(n, |c| {
            matches!(c.status, Status::BelumDitindaklanjuti | Status::Proses)
                && c.unit.as_ref().is_none_or(|u| u.id != "2406")
        })
    }

    pub fn dispose(&self, id: TrackingId, opd: &str) -> OutboxEntry {
        input::dispose(
            &self.store,
            &self.mappings,
            &Disposition {
                tracking_id: id,
                opd: opd.into(),
                note: None,
            },
            "test",
        )
        .unwrap()
    }

    pub fn followup(&self, id: TrackingId, opd: &str, text: &str) -> OutboxEntry {
        input::followup(
            &self.store,
            &self.mappings,
            &FollowUp {
                tracking_id: id,
                opd: opd.into(),
                text: text.into(),
            },
            "test",
        )
        .unwrap()
    }

    pub fn entry(&self, seq: u64) -> OutboxEntry {
        self.store.outbox_entry(seq).unwrap().unwrap()
    }
}

/// Every entry is finished, and each took effect exactly as its state says: a done
/// entry that was sent or found by read-back was applied exactly once; one found already
/// true never; a held or discarded one at most once. No ref was applied twice.
pub fn assert_exactly_once(store: &Store, gt: &GroundTruth) {
    for e in store.outbox_all().unwrap() {
        let n = gt.applied(&e.ref_);
        let what = e.request.action.kind();
        match &e.state {
            OutboxState::Done { evidence, .. } => {
                let already = evidence
                    .as_deref()
                    .is_some_and(|v| v.starts_with("sudah berlaku"));
                let want = if already { 0 } else { 1 };
                assert_eq!(
                    n, want,
                    "ref {} ({what}, done, {evidence:?}) applied {n} times",
                    e.ref_
                );
            }
            OutboxState::Held { reason, .. } => {
                assert!(
                    n <= 1,
                    "ref {} ({what}, held: {reason}) applied {n} times",
                    e.ref_
                )
            }
            OutboxState::Discarded { .. } => {
                assert!(n <= 1, "discarded ref {} applied {n} times", e.ref_)
            }
            OutboxState::Pending => panic!("entry {} still pending: {:?}", e.seq, e.last_error),
        }
    }
    for (r, n) in &gt.writes_applied {
        assert!(*n <= 1, "ref {r} applied {n} times");
    }
}

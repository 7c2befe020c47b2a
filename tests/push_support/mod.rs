//! Fixtures for the push tests: a simulator on a driven clock over loopback TLS (the
//! world changes only through writes and its own rules), a real sled store in a temporary
//! directory filled by a real pull, the shipped mapping files, and helpers to push with a
//! connector clock that moves forward so deferred entries come due without sleeping.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use sp4n::mapping::Mappings;
use sp4n::model::{Status, TrackingId};
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::push::input::{self, Disposition, FollowUp};
use sp4n::sim::{ClockMode, Faults, GroundTruth, SimHandle, SimOptions};
use sp4n::store::{OutboxEntry, OutboxState, Store};
use sp4n::upstream::Client;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Friday 20 November 2026, 10:00 WIB.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap()
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub store: Store,
    pub client: Client,
    pub mappings: Mappings,
    /// Hours the connector's clock runs ahead of the wall clock (moves with each push).
    pub skew_hours: Arc<AtomicI64>,
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
    let mut so = SimOptions::new(seed, complaints, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(t0());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
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
        skew_hours: Arc::new(AtomicI64::new(0)),
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

    /// Push options whose clock is ahead of the wall clock by the current skew: each
    /// call moves the skew one day on, so everything deferred before is due.
    pub fn opts(&self) -> PushOptions {
        let skew = self.skew_hours.clone();
        skew.fetch_add(24, Ordering::SeqCst);
        PushOptions {
            wait_budget: Duration::from_secs(30),
            clock: Arc::new(move || {
                Utc::now() + chrono::Duration::hours(skew.load(Ordering::SeqCst))
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
        let mut ids: Vec<TrackingId> = self
            .store
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|s| s.in_stream && f(s.complaint.status))
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

/// Every entry is done or held, and no ref was applied more than once; done entries'
/// refs were applied exactly once unless their effect was found by read-back (a
/// disposition or status already in place is not re-applied).
pub fn assert_exactly_once(store: &Store, gt: &GroundTruth) {
    for e in store.outbox_all().unwrap() {
        let n = gt.applied(&e.ref_);
        assert!(
            n <= 1,
            "ref {} ({}) applied {n} times",
            e.ref_,
            e.request.action.kind()
        );
        match &e.state {
            OutboxState::Done { .. } => {}
            OutboxState::Held { .. } | OutboxState::Discarded { .. } => {}
            OutboxState::Pending => panic!("entry {} still pending: {:?}", e.seq, e.last_error),
        }
    }
    for (r, n) in &gt.writes_applied {
        assert!(*n <= 1, "ref {r} applied {n} times");
    }
}

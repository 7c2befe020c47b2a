//! The pull against the simulator over loopback TLS with a real sled store: backfill,
//! incremental pulls as the world moves, late visibility, equal timestamps, duplicate
//! delivery, idempotent re-runs, a future cursor, resuming from every checkpoint, and
//! reconcile.

mod support;
use support::pull as pull_support;

use chrono::Duration;
use pull_support::*;
use sp4n::pull::Mode;
use sp4n::sim::Faults;
use sp4n::store::{EventKind, RunOutcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_5000_then_world_ticks_then_incremental_equals_truth() {
    let env = start(11, 5000, Faults::default()).await;
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    let gt = env.truth();
    assert_eq!(r.new as usize, all(&gt).count());
    assert_store_equals_truth(&env.store, &gt);

    for _ in 0..3 {
        env.sim.advance(Duration::hours(20));
        let r = env.pull(&opts(Mode::Pull)).await;
        assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
        assert!(
            r.pulled < 1000,
            "an incremental pull re-read too much: {r:?}"
        );
        let gt = env.truth();
        assert_store_equals_truth(&env.store, &gt);
    }
    // The world did move: changes became events.
    let events = histories(&env.store);
    let changed = events
        .values()
        .filter(|h| {
            h.iter().any(|k| {
                matches!(
                    k,
                    EventKind::StatusChanged { .. } | EventKind::ThreadAdded { .. }
                )
            })
        })
        .count();
    assert!(changed > 0, "no change events after three simulated days");
    assert_no_duplicate_events(&env.store);

    // Reconcile notices those that left the stream.
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    let gt = env.truth();
    for c in &gt.left_stream {
        let s = env.store.get_complaint(c.tracking_id).unwrap().unwrap();
        assert!(
            !s.in_stream,
            "complaint {} left but is still in the stream",
            c.tracking_id
        );
        assert!(
            env.store
                .events(c.tracking_id)
                .unwrap()
                .iter()
                .any(|e| matches!(e.kind, EventKind::LeftStream { .. }))
        );
    }
    assert_store_equals_truth(&env.store, &gt);
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_visibility_equal_timestamps_and_duplicate_delivery_lose_and_double_nothing() {
    let faults = Faults {
        late_visibility_max_seconds: 300,
        duplicate_delivery: true,
        ..Faults::default()
    };
    // A busy platform: an update every ~9 s, many of them visible only later.
    let env = start_full(12, 1500, faults, Some(10_000), |_| {}).await;
    let gt = env.truth();
    // Precondition: equal diperbarui values exist, so page boundaries fall inside them.
    let mut stamps: Vec<_> = gt.complaints.iter().map(|c| c.diperbarui).collect();
    stamps.sort();
    let equal = stamps.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(equal > 0, "the world has no equal diperbarui values");
    let mut o = opts(Mode::Pull);
    o.page_size = 7;
    // Pull often while the world moves in small steps (updates appear late).
    for _ in 0..40 {
        env.sim.advance(Duration::seconds(97));
        let r = env.pull(&o).await;
        assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    }
    // Let every late update become visible, then one more pull.
    // The busy world keeps moving: what changed in the last 300 s may still be
    // invisible; everything older must be stored exactly as the platform has it.
    env.sim.advance(Duration::seconds(301));
    let r = env.pull(&o).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    let gt = env.truth();
    let settled = gt.now - Duration::seconds(300);
    let mut checked = 0;
    for c in all(&gt).filter(|c| c.diperbarui <= settled) {
        let s = env.store.get_complaint(c.tracking_id).unwrap();
        assert!(
            s.as_ref().is_some_and(|s| &s.complaint == c),
            "complaint {} (diperbarui {}) missed or stale",
            c.tracking_id,
            c.diperbarui
        );
        checked += 1;
    }
    let late = all(&gt).filter(|c| c.diperbarui > t0()).count();
    assert!(late > 100, "too few updates during the test: {late}");
    assert!(checked > 1000);
    assert_no_duplicate_events(&env.store);
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pull_with_nothing_new_stores_nothing() {
    let env = start(13, 800, Faults::default()).await;
    let first = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(first.new as usize, all(&env.truth()).count());
    let events = env.store.event_count();
    let cursor = env.store.cursor().unwrap();
    let second = env.pull(&opts(Mode::Pull)).await;
    assert_eq!((second.new, second.changed), (0, 0), "{second:?}");
    assert_eq!(env.store.event_count(), events, "no event may be added");
    assert_eq!(env.store.cursor().unwrap(), cursor);
    assert_eq!(second.outcome, Some(RunOutcome::Ok));
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_in_the_future_pulls_nothing() {
    let env = start(14, 300, Faults::default()).await;
    let future = sp4n::model::StreamKey {
        sejak: env.sim.now() + Duration::days(365),
        setelah: Some(1),
    };
    env.store.set_cursor(Some(&future)).unwrap();
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!((r.pulled, r.new), (0, 0), "{r:?}");
    assert_eq!(env.store.complaint_count(), 0);
    assert_eq!(
        env.store.cursor().unwrap(),
        Some(future),
        "the cursor never moves back"
    );
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_from_every_checkpoint_gives_the_same_end_state() {
    let env = start(15, 1000, Faults::default()).await;
    let mut o = opts(Mode::Pull);
    o.page_size = 100;
    let reference = env.pull(&o).await;
    let pages = reference.pages;
    assert!(pages >= 10, "{reference:?}");
    let want_records: Vec<_> = env
        .store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .map(|s| (s.complaint, s.hash, s.routing.map(|r| (r.opd, r.rule_id))))
        .collect();
    let want_history = histories(&env.store);
    let want_cursor = env.store.cursor().unwrap();
    for k in 1..pages {
        let path = env.dir.path().join(format!("resume-{k}"));
        let store = sp4n::store::Store::open(&path).unwrap();
        let mut first = o.clone();
        first.max_pages = Some(k);
        let r = sp4n::pull::pull(
            &store,
            &env.client,
            std::sync::Arc::new(sp4n::pull::FallbackRouter),
            &first,
        )
        .await
        .unwrap();
        assert_eq!(r.pages, k);
        let r = sp4n::pull::pull(
            &store,
            &env.client,
            std::sync::Arc::new(sp4n::pull::FallbackRouter),
            &o,
        )
        .await
        .unwrap();
        assert_eq!(r.outcome, Some(RunOutcome::Ok));
        let got: Vec<_> = store
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .map(|s| (s.complaint, s.hash, s.routing.map(|r| (r.opd, r.rule_id))))
            .collect();
        assert!(got == want_records, "checkpoint {k}: records differ");
        assert!(
            histories(&store) == want_history,
            "checkpoint {k}: histories differ"
        );
        assert_eq!(store.cursor().unwrap(), want_cursor, "checkpoint {k}");
    }
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_checks_stored_complaints_missing_from_the_stream() {
    let env = start(16, 200, Faults::default()).await;
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok));
    // A complaint we hold that the platform no longer addresses to us.
    let foreign = env
        .sim
        .with_world(|w| w.a_foreign_id())
        .expect("a foreign id");
    let mut rec = env
        .store
        .get_complaint(all(&env.truth()).next().unwrap().tracking_id)
        .unwrap()
        .unwrap();
    rec.complaint.tracking_id = foreign;
    rec.in_stream = true;
    env.store
        .commit_page(sp4n::store::PageCommit {
            upserts: vec![(rec, vec![EventKind::FirstSeen])],
            ..Default::default()
        })
        .unwrap();
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    assert_eq!(r.left_stream, 1, "{r:?}");
    let s = env.store.get_complaint(foreign).unwrap().unwrap();
    assert!(!s.in_stream);
    assert_eq!(s.left_reason.as_deref(), Some("FORBIDDEN"));
    let again = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(again.left_stream, 0, "checked once: {again:?}");
    env.sim.shutdown().await;
}

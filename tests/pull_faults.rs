//! The pull under the simulator's faults: 500/503, 429 with Retry-After (within and beyond
//! the wait budget), hangs (the client timeout fires), HTML pages, error envelopes with
//! HTTP 200, truncated pages and malformed items. Every run ends as ok, retry or partial,
//! never with the cursor past unseen data; once the faults stop, the store equals the
//! ground truth and no event is doubled.

mod support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::pull::Mode;
use sp4n::sim::Faults;
use sp4n::store::RunOutcome;

async fn converges(seed: u64, faults: Faults, total_timeout: u64) {
    let env = start_with(seed, 600, faults.clone(), |u| {
        u.total_timeout_seconds = total_timeout;
        u.read_timeout_seconds = total_timeout;
    })
    .await;
    let mut o = opts(Mode::Pull);
    o.page_size = 50;
    let gt = env.truth();
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        let r = env.pull(&o).await;
        assert!(
            matches!(
                r.outcome,
                Some(RunOutcome::Ok | RunOutcome::Partial | RunOutcome::Retry)
            ),
            "{faults:?}: {r:?}"
        );
        if faults.malformed_item_every == 0 {
            assert_cursor_not_past_unseen(&env.store, &gt);
        }
        outcomes.push(r.outcome);
        if r.outcome == Some(RunOutcome::Ok) {
            break;
        }
    }
    if faults.malformed_item_every == 0 {
        // The faulted pulls themselves converged and lost nothing, before any repair.
        assert_eq!(
            outcomes.last(),
            Some(&Some(RunOutcome::Ok)),
            "{faults:?}: never converged: {outcomes:?}"
        );
        assert_store_equals_truth(&env.store, &env.truth());
    }
    // The faults stop; a reconcile repairs whatever was set aside.
    env.sim.set_faults(Faults::default());
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    assert_store_equals_truth(&env.store, &env.truth());
    assert_no_duplicate_events(&env.store);
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_are_retried() {
    converges(
        21,
        Faults {
            internal_every: 3,
            ..Faults::default()
        },
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_and_rate_limits_wait_as_told() {
    converges(
        22,
        Faults {
            maintenance_every: 5,
            rate_limit_every: 4,
            rate_limit_burst: 2,
            retry_after_seconds: 1,
            ..Faults::default()
        },
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangs_end_with_the_timeout() {
    converges(
        23,
        Faults {
            hang_every: 4,
            ..Faults::default()
        },
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages_and_200_error_envelopes_are_temporary() {
    converges(
        24,
        Faults {
            html_every: 3,
            error_200_every: 5,
            ..Faults::default()
        },
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_pages_are_quarantined_and_the_run_is_partial() {
    let env = start(
        25,
        400,
        // Every request cut: the page is read again (bounded) and then set aside. A page
        // cut now and then is read again within the run (tests/pull_heal.rs).
        Faults {
            truncate_every: 1,
            ..Faults::default()
        },
    )
    .await;
    let mut o = opts(Mode::Pull);
    o.page_size = 50;
    let r = env.pull(&o).await;
    assert_eq!(r.outcome, Some(RunOutcome::Partial), "{r:?}");
    assert_eq!(r.pages, 0, "the first page never arrived whole: {r:?}");
    assert_eq!(sp4n::pull::exit_code(&r), 1);
    let q = env.store.quarantined().unwrap();
    assert_eq!(q.len(), 1);
    assert!(q[0].reason.contains("unreadable page"), "{:?}", q[0].reason);
    assert!(!q[0].raw_bytes().is_empty());
    assert_cursor_not_past_unseen(&env.store, &env.truth());
    env.sim.shutdown().await;
    converges(
        26,
        Faults {
            truncate_every: 3,
            ..Faults::default()
        },
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_items_are_set_aside_and_the_rest_is_taken() {
    let env = start(
        27,
        400,
        Faults {
            malformed_item_every: 40,
            ..Faults::default()
        },
    )
    .await;
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Partial), "{r:?}");
    assert!(r.set_aside >= 5, "{r:?}");
    assert_eq!(
        r.new + r.set_aside,
        all(&env.truth()).count() as u64,
        "{r:?}"
    );
    assert_eq!(env.store.quarantined().unwrap().len() as u64, r.set_aside);
    env.sim.shutdown().await;
    converges(
        28,
        Faults {
            malformed_item_every: 40,
            ..Faults::default()
        },
        5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_beyond_the_budget_ends_the_run_for_later() {
    let env = start(
        29,
        200,
        Faults {
            rate_limit_every: 1,
            rate_limit_burst: 1,
            retry_after_seconds: 3600,
            ..Faults::default()
        },
    )
    .await;
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Retry), "{r:?}");
    assert_eq!(sp4n::pull::exit_code(&r), 4);
    assert_eq!(env.store.cursor().unwrap(), None);
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_with_exit_3() {
    let env = start(30, 50, Faults::default()).await;
    let up = env.sim.upstream_config();
    let client = sp4n::upstream::Client::new(
        &up,
        sp4n::upstream::Token::new("{00000000-0000-4000-8000-000000000000}"),
    )
    .unwrap();
    let r = sp4n::pull::pull(
        &env.store,
        &client,
        std::sync::Arc::new(sp4n::pull::FallbackRouter),
        &opts(Mode::Pull),
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, Some(RunOutcome::TokenRefused), "{r:?}");
    assert_eq!(sp4n::pull::exit_code(&r), 3);
    let text = serde_json::to_string(&r).unwrap();
    assert!(
        !text.contains("00000000-0000"),
        "the token leaked into the report"
    );
    env.sim.shutdown().await;
}

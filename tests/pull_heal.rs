//! Set-aside items heal and runs read past a bad page (issue 14), against the simulator
//! over loopback TLS with a real sled store: a truncated page is read again within the
//! run; a page unreadable on every attempt is set aside and cleared once read fine; an
//! unreadable item with a tracking id is fetched alone in the same run; `quarantine list`
//! hides reporter data unless asked and `quarantine clear` lets a person clear one; a
//! Bukan Wewenang complaint moved to another instansi is noticed; the reconcile's counters
//! add up; `complaints list --topic` includes sub-topics; an oversize page says to lower
//! `page_size`; JSON logs carry plain values and no sled noise.

mod support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::model::Status;
use sp4n::pull::Mode;
use sp4n::sim::Faults;
use sp4n::store::{ComplaintFilter, RunOutcome};
use std::process::Output;

use support::sp4n;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_page_is_read_again_within_the_run() {
    let env = start(
        61,
        400,
        Faults {
            truncate_every: 3,
            ..Faults::default()
        },
    )
    .await;
    let mut o = opts(Mode::Pull);
    o.page_size = 50;
    let r = env.pull(&o).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    assert_eq!(r.set_aside, 0, "{r:?}");
    assert!(env.store.quarantined().unwrap().is_empty());
    assert_store_equals_truth(&env.store, &env.truth());
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_unreadable_on_every_attempt_is_set_aside_then_healed() {
    let env = start(
        62,
        200,
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
    assert_eq!(r.set_aside, 1, "one page, after bounded attempts: {r:?}");
    assert_eq!(env.store.quarantined().unwrap().len(), 1);
    // The platform recovers: the next pull reads that page fine and the item clears.
    env.sim.set_faults(Faults::default());
    let r = env.pull(&o).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    assert!(
        env.store.quarantined().unwrap().is_empty(),
        "{:?}",
        env.store.quarantined().unwrap()
    );
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_item_with_a_tracking_id_is_fetched_alone_in_the_same_run() {
    let env = start(
        63,
        400,
        Faults {
            malformed_item_every: 40,
            ..Faults::default()
        },
    )
    .await;
    let r = env.pull(&opts(Mode::Pull)).await;
    let q = env.store.quarantined().unwrap();
    assert!(
        q.iter().all(|i| i.tracking_id.is_none()),
        "items with a known tracking id were read with getlaporan: {q:?}"
    );
    assert!(!q.is_empty(), "items without a tracking id stay set aside");
    assert_eq!(q.len() as u64, r.set_aside, "{r:?}");
    assert_eq!(
        r.new + r.set_aside,
        all(&env.truth()).count() as u64,
        "{r:?}"
    );
    // A complete reconcile reads every complaint fine: the rest clears.
    env.sim.set_faults(Faults::default());
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    assert!(env.store.quarantined().unwrap().is_empty());
    assert_eq!(r.pulled, r.new + r.changed + r.unchanged, "{r:?}");
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bukan_wewenang_complaint_moved_to_another_instansi_is_noticed() {
    let env = start(64, 400, Faults::default()).await;
    let r = env.pull(&opts(Mode::Pull)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    let parked = env
        .store
        .list_complaints(&ComplaintFilter {
            status: Some(Status::BukanWewenang),
            ..Default::default()
        })
        .unwrap();
    let first = parked
        .first()
        .expect("the world has Bukan Wewenang complaints");
    let id = first.tracking_id();
    assert!(!first.in_stream);
    assert!(env.sim.with_world(|w| w.move_to_other_instansi(id)));
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.outcome, Some(RunOutcome::Ok), "{r:?}");
    let after = env.store.get_complaint(id).unwrap().unwrap();
    assert_eq!(after.left_reason.as_deref(), Some("FORBIDDEN"), "{after:?}");
    assert_eq!(r.left_stream, 1, "{r:?}");
    assert_eq!(r.pulled, r.new + r.changed + r.unchanged, "{r:?}");
    // Noticed once: the next reconcile leaves it alone.
    let r = env.pull(&opts(Mode::Reconcile)).await;
    assert_eq!(r.left_stream, 0, "{r:?}");
    assert_eq!(r.pulled, r.new + r.changed + r.unchanged, "{r:?}");
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_page_says_to_lower_page_size() {
    let env = start_with(65, 300, Faults::default(), |u| {
        u.max_response_bytes = 4096;
    })
    .await;
    let mut o = opts(Mode::Pull);
    o.page_size = 200;
    let r = env.pull(&o).await;
    assert_eq!(r.outcome, Some(RunOutcome::Retry), "{r:?}");
    assert!(
        r.problems.iter().any(|p| p.contains("page_size")),
        "{:?}",
        r.problems
    );
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_list_hides_reporters_and_a_person_can_clear_an_item() {
    let env = start(
        66,
        120,
        Faults {
            truncate_every: 1,
            ..Faults::default()
        },
    )
    .await;
    let cfg = write_config(env.dir.path(), &env, "cli-store", 50);
    let out = sp4n(&cfg, &["--log-format", "json", "pull"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!logs.contains("unparsable path"), "sled noise: {logs}");
    assert!(
        !logs.contains("Some("),
        "Rust debug text in JSON logs: {logs}"
    );

    let emails: Vec<String> = all(&env.truth())
        .filter_map(|c| c.pelapor.as_ref().map(|p| p.email.clone()))
        .filter(|e| !e.is_empty())
        .collect();
    let shows_reporter = |o: &Output| {
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        emails.iter().any(|e| t.contains(e.as_str()))
    };
    let hidden = sp4n(&cfg, &["--json", "quarantine", "list"]).await;
    assert!(hidden.status.success(), "{}", text(&hidden));
    let items: serde_json::Value = serde_json::from_slice(&hidden.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert!(
        !shows_reporter(&hidden),
        "reporter data without --reveal-reporter"
    );
    assert!(String::from_utf8_lossy(&hidden.stdout).contains("disembunyikan"));
    let shown = sp4n(&cfg, &["--json", "quarantine", "list", "--reveal-reporter"]).await;
    assert!(
        shows_reporter(&shown),
        "--reveal-reporter shows the raw bytes"
    );

    let id = items[0]["id"].as_u64().unwrap().to_string();
    let out = sp4n(&cfg, &["quarantine", "clear", &id]).await;
    assert_eq!(out.status.code(), Some(2), "--reason is required");
    let out = sp4n(
        &cfg,
        &[
            "quarantine",
            "clear",
            &id,
            "--reason",
            "Sudah dicek manual.",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let out = sp4n(&cfg, &["quarantine", "clear", &id, "--reason", "lagi"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = sp4n(&cfg, &["--json", "quarantine", "list"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaints_list_by_topic_includes_sub_topics() {
    let env = start(67, 400, Faults::default()).await;
    let cfg = write_config(env.dir.path(), &env, "cli-store", 200);
    let out = sp4n(&cfg, &["pull"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let store_path = env.dir.path().join("cli-store");
    // A parent topic with complaints filed under its sub-topics.
    let topics = sp4n::mapping::world::modelled_topics();
    let truth = env.truth();
    let parent_of = |id: &str| {
        topics
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.parent.clone())
            .unwrap_or_default()
    };
    let child = all(&truth)
        .filter_map(|c| c.topik.as_ref())
        .find(|t| parent_of(&t.id) != "0" && !parent_of(&t.id).is_empty())
        .expect("complaints under a sub-topic")
        .id
        .clone();
    let parent = parent_of(&child);
    let expected = all(&truth)
        .filter(|c| {
            c.topik
                .as_ref()
                .is_some_and(|t| t.id == parent || parent_of(&t.id) == parent)
        })
        .count();
    let out = sp4n(
        &cfg,
        &[
            "--json",
            "complaints",
            "list",
            "--topic",
            &parent,
            "--limit",
            "100000",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r.to_string().contains(&format!("\"id\":\"{child}\""))),
        "a sub-topic's complaint is listed under its parent {parent}"
    );
    assert!(rows.len() >= expected, "{} < {expected}", rows.len());
    let _ = store_path;
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_plain_values_not_rust_debug_text() {
    let env = start(
        68,
        200,
        Faults {
            malformed_item_every: 20,
            ..Faults::default()
        },
    )
    .await;
    let cfg = write_config(env.dir.path(), &env, "cli-store", 50);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(&cfg)
        .args(["--log-format", "json", "pull"])
        .env("SP4N_LOG", "info")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(logs.contains("\"tracking_id\":"), "{logs}");
    for bad in ["Some(", "\"None\"", "unparsable path"] {
        assert!(!logs.contains(bad), "{bad} in JSON logs: {logs}");
    }
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("{e}: not a JSON line: {line}"));
    }
    env.sim.shutdown().await;
}

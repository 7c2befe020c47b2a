//! `sp4n store rebuild` and `sp4n demo` end to end.

mod support;
use support as cli_support;
use support::pull as pull_support;

use pull_support::*;
use sp4n::sim::Faults;
use sp4n::store::{EventKind, NewOutboxEntry, RoutedBy, Routing, Store, new_ref};
use sp4n::upstream::{WriteAction, WriteRequest};
use std::path::Path;

use cli_support::sp4n;

fn config(dir: &Path, env: &Env) -> std::path::PathBuf {
    let text = format!(
        "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\n\n[store]\npath = \"rb-store\"\n[mappings]\ndir = \"{}\"\n",
        env.sim.base_url(),
        env.sim.token_file().display(),
        env.sim.ca_file().display(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")
    );
    let path = dir.join("sp4n.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_exports_local_only_data_then_pulls_everything_again() {
    let env = start(51, 150, Faults::default()).await;
    let cfg = config(env.dir.path(), &env);
    let out = sp4n(&cfg, &["pull"]).await;
    assert_eq!(out.status.code(), Some(0));
    let store_path = env.dir.path().join("rb-store");
    let r = new_ref();
    let (id, triaged_at) = {
        let s = Store::open(&store_path).unwrap();
        let id = s.complaint_ids().unwrap()[0];
        // Local-only data: a person's routing with its note, and an entry whose answer was lost.
        s.update_complaint(
            id,
            |c| {
                c.routing = Some(Routing {
                    opd: "DINKES".into(),
                    rule_id: "triage".into(),
                    revision: "r1".into(),
                    routed_at: chrono::Utc::now(),
                    by: RoutedBy::Person("admin".into()),
                });
                Ok(vec![EventKind::TriageAssigned {
                    opd: "DINKES".into(),
                    by: "admin".into(),
                    note: "puskesmas".into(),
                }])
            },
            vec![],
        )
        .unwrap();
        let queued = s
            .enqueue(vec![NewOutboxEntry {
                opd: "DINKES".into(),
                requested_by: "admin".into(),
                request: WriteRequest {
                    ref_: r.clone(),
                    action: WriteAction::Disposisi {
                        tracking_id: id,
                        unit: "2405".into(),
                        catatan: "x".into(),
                    },
                },
            }])
            .unwrap();
        let mut sent = queued[0].clone();
        sent.attempts = 1;
        sent.outcome_unknown = true;
        s.update_entry(&sent).unwrap();
        let at = s
            .events(id)
            .unwrap()
            .into_iter()
            .find(|e| matches!(e.kind, EventKind::TriageAssigned { .. }))
            .unwrap()
            .at;
        (id, at)
    };
    let out = sp4n(&cfg, &["store", "rebuild"]).await;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("exported 1 unfinished outbox entries"),
        "{err}"
    );
    let names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let export = names
        .iter()
        .find(|n| n.starts_with("rb-store.export-"))
        .expect("export file");
    let text = std::fs::read_to_string(env.dir.path().join(export)).unwrap();
    assert!(text.contains(&r), "the export holds the outbox entry");
    assert!(
        names.iter().any(|n| n.starts_with("rb-store.damaged-")),
        "{names:?}"
    );
    assert!(
        err.contains(
            "restored 1 routing decisions, 1 triage notes and 1 unfinished outbox entries"
        ),
        "{err}"
    );
    let s = Store::open(&store_path).unwrap();
    assert_store_equals_truth(&s, &env.truth());
    // Put back: the routing, the note with its time, the entry with its ref and its
    // unknown outcome (so the push reads back before sending again).
    let c = s.get_complaint(id).unwrap().unwrap();
    assert_eq!(c.opd(), "DINKES");
    assert_eq!(c.routing.unwrap().by, RoutedBy::Person("admin".into()));
    let note = s
        .events(id)
        .unwrap()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::TriageAssigned { .. }));
    assert_eq!(note.map(|e| e.at), Some(triaged_at));
    let outbox = s.outbox_all().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].ref_, r);
    assert!(outbox[0].outcome_unknown);
    assert_eq!(outbox[0].attempts, 1);
    drop(s);

    // A damaged store: nothing to export, still rebuilt.
    for e in std::fs::read_dir(&store_path).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n == "conf" || n == "db") {
            std::fs::write(&p, vec![0x5Au8; 2048]).unwrap();
        }
    }
    let out = sp4n(&cfg, &["complaints", "list"]).await;
    assert_eq!(out.status.code(), Some(5));
    let out = sp4n(&cfg, &["store", "rebuild"]).await;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("nothing could be exported"), "{err}");
    let s = Store::open(&store_path).unwrap();
    assert_store_equals_truth(&s, &env.truth());
    env.sim.shutdown().await;
}

#[test]
fn demo_runs_without_any_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .current_dir(dir.path())
        .env_remove("SP4N_CONFIG")
        .args(["demo", "--complaints", "300"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Stored complaints: 300"), "{text}");
    for section in [
        "By status:",
        "By topic:",
        "By kapanewon:",
        "What to try next:",
    ] {
        assert!(text.contains(section), "{section} missing: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_reclaims_superseded_records_and_keeps_every_complaint() {
    let env = start(52, 120, Faults::default()).await;
    let cfg = config(env.dir.path(), &env);
    assert_eq!(sp4n(&cfg, &["pull"]).await.status.code(), Some(0));
    let store_path = env.dir.path().join("rb-store");
    let before = {
        let s = Store::open(&store_path).unwrap();
        // Every record rewritten once: the first versions become garbage.
        for id in s.complaint_ids().unwrap() {
            s.update_complaint(id, |_| Ok(vec![]), vec![]).unwrap();
        }
        let (size, dead) = s.value_log_usage().unwrap();
        assert!(dead > 0 && dead < size);
        (s.list_complaints(&Default::default()).unwrap(), size, dead)
    };
    let out = sp4n(&cfg, &["store", "compact", "--json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["value_log_bytes_before"], before.1);
    assert_eq!(v["reclaimed_bytes"], before.2);
    let s = Store::open(&store_path).unwrap();
    assert_eq!(s.value_log_usage().unwrap(), (before.1 - before.2, 0));
    assert_eq!(s.list_complaints(&Default::default()).unwrap(), before.0);
}

//! Crash safety of the push: the real `sp4n push` binary is killed with SIGKILL at
//! pseudo-random moments while it sends, at least 30 times, and restarted each time,
//! against a platform that ignores `ref` (so only the read-back protects against double
//! application). At the end every entry is done or held, every ref was applied at most
//! once, each follow-up is on its thread exactly once, and the child's logs hold neither
//! the token nor reporter identity.

use chrono::{TimeZone, Utc};
use sp4n::model::Status;
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::push::input::{self, Disposition, FollowUp, StatusChange};
use sp4n::sim::{ClockMode, Faults, SimOptions};
use sp4n::store::{OutboxState, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn mappings() -> sp4n::mapping::Mappings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    sp4n::mapping::Mappings::load(&dir).unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_pushes_resume_without_loss_or_double_application() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(71, 1500, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let up = sim.upstream_config();
    let store_path = dir.path().join("store");

    // Pull, then queue three writes for each open complaint, in this process.
    let queued = {
        let store = Store::open(&store_path).unwrap();
        let client = sp4n::upstream::Client::new(&up, sim.token()).unwrap();
        let mut o = PullOptions::new(Mode::Pull);
        o.page_size = 500;
        sp4n::pull::pull(&store, &client, Arc::new(FallbackRouter), &o)
            .await
            .unwrap();
        let m = mappings();
        let mut ids: Vec<u64> = store
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|s| {
                s.in_stream
                    && matches!(
                        s.complaint.status,
                        Status::BelumDitindaklanjuti | Status::Proses
                    )
            })
            .map(|s| s.tracking_id())
            .collect();
        ids.sort();
        ids.truncate(120);
        assert!(ids.len() >= 100, "only {} open complaints", ids.len());
        let mut queued = Vec::new();
        for id in &ids {
            let d = Disposition {
                tracking_id: *id,
                opd: "DPUPKP".into(),
                note: None,
            };
            input::dispose(&store, &m, &d, "test").unwrap();
            let f = FollowUp {
                tracking_id: *id,
                opd: "DPUPKP".into(),
                text: format!("Tindak lanjut aduan {id}: tim sudah ke lokasi."),
            };
            let fe = input::followup(&store, &m, &f, "test").unwrap();
            let s = StatusChange {
                tracking_id: *id,
                status: Status::Selesai,
                reason: "Sudah selesai.".into(),
            };
            input::set_status(&store, &s, "test").unwrap();
            queued.push((*id, fe.ref_));
        }
        queued
    };
    sim.set_faults(Faults {
        ignore_ref: true,
        ..Faults::default()
    });

    let cfg = dir.path().join("sp4n.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\ntotal_timeout_seconds = 10\n\n[store]\npath = \"{}\"\n[mappings]\ndir = \"{}\"\n",
            up.base_url.unwrap(),
            up.token_file.unwrap().display(),
            up.ca_file.unwrap().display(),
            store_path.display(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")
        ),
    )
    .unwrap();
    let log_dir = dir.path().join("logs");
    std::fs::create_dir_all(&log_dir).unwrap();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut kills, mut runs) = (0, 0);
    while kills < 30 && runs < 200 {
        runs += 1;
        let log = std::fs::File::create(log_dir.join(format!("run-{runs}.log"))).unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
            .arg("--config")
            .arg(&cfg)
            .arg("push")
            .env("SP4N_LOG", "debug")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        // Kill timing, not waiting for a server.
        let delay = Duration::from_millis(30 + next() % 200);
        tokio::select! {
            status = child.wait() => {
                let code = status.unwrap().code();
                assert!(matches!(code, Some(0) | Some(1)), "push exited with {code:?}");
                break;
            }
            _ = tokio::time::sleep(delay) => {
                child.kill().await.unwrap(); // SIGKILL
                kills += 1;
            }
        }
    }
    assert!(
        kills >= 30,
        "only {kills} kills in {runs} runs (the push finished too early)"
    );

    // One last run to completion.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(&cfg)
        .args(["push", "--json"])
        .env("SP4N_LOG", "debug")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["run"]["held"], 0, "{report}");

    let store = Store::open(&store_path).unwrap();
    let gt = sim.ground_truth();
    let entries = store.outbox_all().unwrap();
    assert_eq!(entries.len(), queued.len() * 3);
    let mut read_back = 0;
    for e in &entries {
        match &e.state {
            OutboxState::Done { transaksi_id, .. } => {
                read_back += usize::from(transaksi_id.starts_with("dibaca-ulang"))
            }
            OutboxState::Held { reason, .. } => panic!("entry {} held: {reason}", e.seq),
            other => panic!("entry {} is {other:?}", e.seq),
        }
        assert!(gt.applied(&e.ref_) <= 1, "ref {} applied twice", e.ref_);
    }
    for (r, n) in &gt.writes_applied {
        assert!(*n <= 1, "ref {r} applied {n} times");
    }
    for (id, fref) in &queued {
        let c = gt.complaint(*id).unwrap();
        assert_eq!(c.status, Status::Selesai, "complaint {id}");
        assert_eq!(c.unit.as_ref().unwrap().id, "2406");
        let n = c
            .thread
            .iter()
            .filter(|t| t.ref_.as_deref() == Some(fref))
            .count();
        assert_eq!(n, 1, "complaint {id}: follow-up {n} times on the thread");
    }
    eprintln!("{kills} kills in {runs} runs; {read_back} entries confirmed by read-back");

    // The children's logs: no token, no reporter identity.
    let mut logs = stderr;
    for f in std::fs::read_dir(&log_dir).unwrap() {
        logs.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    assert!(
        logs.contains("DEBUG") || logs.contains("INFO"),
        "nothing was logged"
    );
    assert!(
        !logs.contains(sim.token().expose()),
        "the token is in the logs"
    );
    for c in gt.complaints.iter().chain(gt.left_stream.iter()) {
        if let Some(p) = &c.pelapor {
            for s in [&p.email, &p.telpon] {
                assert!(
                    s.is_empty() || !logs.contains(s.as_str()),
                    "reporter data in logs"
                );
            }
        }
    }
}

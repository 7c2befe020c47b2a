//! Crash safety of the push on a deployment that ignores `ref` (no deduplication, no
//! echo) and drops every third write's connection after applying it: the real `sp4n`
//! binary, alternately `push` and `sync`, is killed with SIGKILL at pseudo-random moments
//! at least 100 times, across every write kind (dispositions, follow-ups — some posted
//! twice on purpose with the same text —, status changes, new complaints). After every
//! kill the store opens. At the end, with the faults off, every intended write took
//! effect exactly once by the simulator's ground truth: none lost, none twice, none held.
//! The children's logs hold neither the token nor reporter identity.

use sp4n::model::{Status, TrackingId};
use sp4n::pull::{FallbackRouter, Mode, PullOptions};
use sp4n::push::input::{self, Disposition, FollowUp, StatusChange, SubmitForm};
use sp4n::sim::{ClockMode, Faults, SimOptions};
use sp4n::store::{OutboxEntry, OutboxState, Store};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const KILLS: usize = 100;

fn mappings() -> sp4n::mapping::Mappings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    sp4n::mapping::Mappings::load(&dir).unwrap().0
}

/// Queues a batch on complaints not used yet: for each, a disposition to DPUPKP, a
/// follow-up (every fourth complaint gets the same text twice, on purpose), Selesai; and
/// two new complaints. Returns the follow-up texts by complaint, and the new titles.
fn queue_batch(
    store: &Store,
    used: &mut HashSet<TrackingId>,
    batch: usize,
) -> (Vec<(TrackingId, String, usize)>, Vec<String>) {
    let m = mappings();
    let mut ids: Vec<TrackingId> = store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|s| {
            s.in_stream
                && !used.contains(&s.tracking_id())
                && matches!(
                    s.complaint.status,
                    Status::BelumDitindaklanjuti | Status::Proses
                )
        })
        .map(|s| s.tracking_id())
        .collect();
    ids.sort();
    ids.truncate(20);
    assert!(ids.len() >= 10, "only {} open complaints left", ids.len());
    let mut texts = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        used.insert(*id);
        let d = Disposition {
            tracking_id: *id,
            opd: "DPUPKP".into(),
            note: None,
        };
        input::dispose(store, &m, &d, "test").unwrap();
        let text = format!("Batch {batch}: tim sudah ke lokasi aduan {id}.");
        let twice = if i % 4 == 0 { 2 } else { 1 };
        for _ in 0..twice {
            let f = FollowUp {
                tracking_id: *id,
                opd: "DPUPKP".into(),
                text: text.clone(),
            };
            input::followup(store, &m, &f, "test").unwrap();
        }
        let s = StatusChange {
            tracking_id: *id,
            status: Status::Selesai,
            reason: "Sudah selesai.".into(),
        };
        input::set_status(store, &s, "test").unwrap();
        texts.push((*id, text, twice));
    }
    let mut titles = Vec::new();
    for j in 0..2 {
        let mut form = SubmitForm::read(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/submit-example.json"),
        )
        .unwrap();
        form.judul = format!("Aduan lewat loket, batch {batch} nomor {j}");
        input::submit(store, &form, "test").unwrap();
        titles.push(form.judul);
    }
    (texts, titles)
}

fn finished(entries: &[OutboxEntry]) -> usize {
    entries.iter().filter(|e| e.state.is_finished()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_pushes_and_syncs_resume_without_loss_or_double_application() {
    let dir = tempfile::tempdir().unwrap();
    // The real clock: the binary's clock and the platform's agree, as in production.
    let mut so = SimOptions::new(71, 1500, &dir.path().join("sim"));
    so.clock = ClockMode::Real;
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let up = sim.upstream_config();
    let store_path = dir.path().join("store");
    let mut used = HashSet::new();
    let mut texts = Vec::new();
    let mut titles = Vec::new();
    let mut batch = 0;
    {
        let store = Store::open(&store_path).unwrap();
        let client = sp4n::upstream::Client::new(&up, sim.token()).unwrap();
        let mut o = PullOptions::new(Mode::Pull);
        o.page_size = 500;
        sp4n::pull::pull(&store, &client, Arc::new(FallbackRouter), &o)
            .await
            .unwrap();
        let (t, n) = queue_batch(&store, &mut used, batch);
        texts.extend(t);
        titles.extend(n);
    }
    sim.set_faults(Faults {
        ignore_ref: true,
        apply_then_drop_every: 3,
        ..Faults::default()
    });

    let cfg = dir.path().join("sp4n.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\ntotal_timeout_seconds = 10\n\n[store]\npath = \"{}\"\n[mappings]\ndir = \"{}\"\n[push]\n# This simulator shows new complaints at once; lost answers are read back a second later.\nvisibility_delay_seconds = 0\nbackoff_initial_seconds = 1\nbackoff_max_seconds = 1\n",
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
    let (mut kills, mut mid_work, mut runs) = (0, 0, 0);
    while kills < KILLS && runs < 5000 {
        runs += 1;
        let before = {
            let store = Store::open(&store_path).expect("the store opens after every kill");
            let mut entries = store.outbox_all().unwrap();
            if finished(&entries) == entries.len() {
                // The work ran out before enough kills: more of it.
                batch += 1;
                let (t, n) = queue_batch(&store, &mut used, batch);
                texts.extend(t);
                titles.extend(n);
                entries = store.outbox_all().unwrap();
            }
            finished(&entries)
        };
        let job = if runs % 2 == 0 { "sync" } else { "push" };
        let mut log = std::fs::File::create(log_dir.join(format!("run-{runs}.log"))).unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
            .arg("--config")
            .arg(&cfg)
            .args([job, "--json"])
            .env("SP4N_LOG", "debug")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The kill comes a random 0–40 ms after the child's first write was answered (its
        // log says so), so it lands inside the push, not during start-up or the pull.
        let stderr = child.stderr.take().unwrap();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let copier = tokio::spawn(async move {
            use std::io::Write;
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            let mut started = Some(started_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = writeln!(log, "{line}");
                let write = ["adddisposisi", "addtindaklanjut", "setstatus", "addstream"]
                    .iter()
                    .any(|w| line.contains(w));
                if write && line.contains("Upstream answered.") {
                    if let Some(tx) = started.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        let delay = Duration::from_millis(next() % 40);
        let kill_moment = async {
            match started_rx.await {
                Ok(()) => tokio::time::sleep(delay).await,
                // The child ended without a write: let `wait` report it.
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            status = child.wait() => {
                let code = status.unwrap().code();
                assert!(matches!(code, Some(0) | Some(1)), "{job} exited with {code:?}");
            }
            _ = kill_moment => {
                child.kill().await.unwrap(); // SIGKILL
                kills += 1;
                let store = Store::open(&store_path).expect("the store opens after every kill");
                let entries = store.outbox_all().unwrap();
                // The kill landed while entries were being finished and some were left.
                if finished(&entries) > before && finished(&entries) < entries.len() {
                    mid_work += 1;
                }
            }
        }
        let _ = copier.await;
    }
    assert!(kills >= KILLS, "only {kills} kills in {runs} runs");
    assert!(
        mid_work * 2 >= kills,
        "only {mid_work} of {kills} kills landed while a push was finishing entries"
    );

    // With the faults off, one last run to completion, without waiting out the backoff
    // of entries whose answer was lost just before the last kill.
    sim.set_faults(Faults::default());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sp4n"))
        .arg("--config")
        .arg(&cfg)
        .args(["push", "--now", "--json"])
        .env("SP4N_LOG", "debug")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["run"]["held"], 0, "{report}");

    let store = Store::open(&store_path).unwrap();
    let gt = sim.ground_truth();
    let entries = store.outbox_all().unwrap();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut twice, mut lost) = (0, 0);
    for e in &entries {
        let n = gt.applied(&e.ref_);
        match &e.state {
            OutboxState::Done { evidence, .. } => {
                let already = evidence
                    .as_deref()
                    .is_some_and(|v| v.starts_with("sudah berlaku"));
                let how = if already {
                    "already true"
                } else if evidence.is_some() {
                    "read back"
                } else {
                    "answered"
                };
                *tally.entry(how).or_default() += 1;
                if n > 1 {
                    twice += 1;
                }
                if !already && n == 0 {
                    lost += 1;
                }
                if already {
                    assert_eq!(n, 0, "entry {} already true but applied", e.seq);
                }
            }
            OutboxState::Held { reason, .. } => panic!("entry {} held: {reason}", e.seq),
            other => panic!("entry {} is {other:?}", e.seq),
        }
    }
    eprintln!(
        "{kills} kills ({mid_work} mid-work) in {runs} runs over {} writes: {tally:?}; applied twice {twice}, lost {lost}, held 0",
        entries.len()
    );
    assert_eq!((twice, lost), (0, 0));
    for (r, n) in &gt.writes_applied {
        assert!(*n <= 1, "ref {r} applied {n} times");
    }
    for (id, text, times) in &texts {
        let c = gt.complaint(*id).unwrap();
        assert_eq!(c.status, Status::Selesai, "complaint {id}");
        assert_eq!(c.unit.as_ref().unwrap().id, "2406");
        let n = c.thread.iter().filter(|t| &t.isi == text).count();
        assert_eq!(
            n, *times,
            "complaint {id}: follow-up {n} times on the thread"
        );
    }
    for t in &titles {
        let n = gt.complaints.iter().filter(|c| &c.judul == t).count();
        assert_eq!(n, 1, "'{t}' is on the platform {n} times");
    }

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

//! The fault matrix: 500/503, 429 with Retry-After, hangs, "apply then hang", HTML pages,
//! error envelopes with HTTP 200 and truncated answers, on every write and on the
//! read-back, with and without the platform honouring `ref`, alone and combined: no entry
//! is lost, no write is applied twice. A refused token stops the run and loses nothing.
//! The captured logs of the whole file contain neither the token nor reporter identity.

mod support;
use support::push as push_support;

use push_support::*;
use sp4n::model::Status;
use sp4n::push::input::{self, StatusChange, SubmitForm};
use sp4n::sim::{FaultKind, Faults, GroundTruth, ScriptedFault};
use sp4n::store::{OutboxState, RunOutcome};
use std::sync::{Arc, Mutex, OnceLock};

/// Every log line of this test binary: ours at every level, dependencies' from info.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = buf.clone();
        let sub = tracing_subscriber::fmt()
            // Everything of ours; dependencies from info up. Their trace events fire while
            // connections are dropped at runtime teardown, inside thread-local destructors,
            // where the fmt layer's own thread-local is gone and the process aborts.
            .with_env_filter("info,sp4n=trace")
            .with_ansi(false)
            .with_writer(move || Capture(w.clone()))
            .finish();
        tracing::subscriber::set_global_default(sub).unwrap();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logs so far hold no token and no reporter name, e-mail or phone number.
fn assert_logs_clean(env: &Env, gt: &GroundTruth) {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    assert!(!text.is_empty(), "nothing was captured");
    let token = env.sim.token();
    assert!(!text.contains(token.expose()), "the token is in the logs");
    for c in gt.complaints.iter().chain(gt.left_stream.iter()) {
        if let Some(p) = &c.pelapor {
            for s in [&p.email, &p.telpon] {
                assert!(
                    s.is_empty() || !text.contains(s.as_str()),
                    "reporter data in logs"
                );
            }
            let full = format!("{} {}", p.namadepan, p.namabelakang);
            assert!(!text.contains(&full), "a reporter's name is in the logs");
        }
    }
    for s in ["warga@example.org", "081200000001", "Contoh Warga"] {
        assert!(!text.contains(s), "the submitted reporter is in the logs");
    }
}

fn queue_three(env: &Env, id: u64) -> Vec<sp4n::store::OutboxEntry> {
    vec![
        env.dispose(id, "DPUPKP"),
        env.followup(id, "DPUPKP", &format!("Tindak lanjut untuk aduan {id}.")),
        input::set_status(
            &env.store,
            &StatusChange {
                tracking_id: id,
                status: Status::Selesai,
                reason: "Sudah selesai ditangani.".into(),
            },
            "test",
        )
        .unwrap(),
    ]
}

/// Each of the three entries is done and on the platform exactly once, with its effect
/// (the follow-up's text once on the thread, whether or not the platform echoes `ref`).
fn assert_three_applied(env: &Env, id: u64, entries: &[sp4n::store::OutboxEntry], ctx: &str) {
    let gt = env.truth();
    for e in entries {
        let st = env.entry(e.seq).state;
        assert!(
            matches!(st, OutboxState::Done { .. }),
            "{ctx}: {} is {st:?}",
            e.request.action.kind()
        );
        assert_eq!(
            gt.applied(&e.ref_),
            1,
            "{ctx}: {} not applied exactly once",
            e.request.action.kind()
        );
    }
    let c = gt.complaint(id).unwrap();
    assert_eq!(c.unit.as_ref().unwrap().id, "2406", "{ctx}");
    assert_eq!(c.status, Status::Selesai, "{ctx}");
    let text = format!("Tindak lanjut untuk aduan {id}.");
    let on_thread = c.thread.iter().filter(|t| t.isi == text).count();
    assert_eq!(
        on_thread, 1,
        "{ctx}: follow-up on the thread {on_thread} times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_every_write_and_read_back_applies_each_write_once() {
    logs();
    let env = start_with_timeout(61, 200, Faults::default(), 2).await;
    let kinds = [
        FaultKind::Internal,
        FaultKind::Maintenance,
        FaultKind::RateLimited,
        FaultKind::Html,
        FaultKind::Error200,
        FaultKind::Truncate,
        FaultKind::ApplyThenHang,
        FaultKind::ApplyThenDrop,
        FaultKind::Hang,
    ];
    let ids = env.pick_open_elsewhere(kinds.len() * 2);
    let mut i = 0;
    for ignore_ref in [false, true] {
        for kind in kinds {
            let id = ids[i];
            i += 1;
            let entries = queue_three(&env, id);
            // Write-only faults (apply then hang or drop) cannot hit a read.
            let write_only = matches!(kind, FaultKind::ApplyThenHang | FaultKind::ApplyThenDrop);
            let script = [
                "adddisposisi",
                "getlaporan",
                "addtindaklanjut",
                "getlaporan",
                "setstatus",
            ]
            .iter()
            .filter(|e| !write_only || !e.starts_with("get"))
            .map(|e| ScriptedFault {
                kind,
                endpoint: Some(e.to_string()),
            })
            .collect();
            env.sim.set_faults(Faults {
                ignore_ref,
                retry_after_seconds: 1,
                script,
                ..Faults::default()
            });
            let reports = env.push_until_quiet(12).await;
            let ctx = format!("{kind:?}, ignore_ref {ignore_ref}");
            assert_eq!(
                env.sim.script_left(),
                0,
                "{ctx}: a scripted fault never fired"
            );
            assert!(reports.iter().all(|r| r.held == 0), "{ctx}: {reports:?}");
            assert_three_applied(&env, id, &entries, &ctx);
        }
    }
    let gt = env.truth();
    assert_exactly_once(&env.store, &gt);
    assert_logs_clean(&env, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_faults_on_a_platform_that_ignores_refs_lose_nothing_and_apply_nothing_twice() {
    logs();
    let faults = Faults {
        internal_every: 7,
        maintenance_every: 11,
        rate_limit_every: 13,
        rate_limit_burst: 2,
        retry_after_seconds: 1,
        html_every: 5,
        error_200_every: 17,
        truncate_every: 19,
        apply_then_hang_every: 8,
        apply_then_drop_every: 3,
        ignore_ref: true,
        ..Faults::default()
    };
    let env = start_with_timeout(62, 200, Faults::default(), 2).await;
    let ids = env.pick_open_elsewhere(16);
    let queued: Vec<_> = ids.iter().map(|id| (*id, queue_three(&env, *id))).collect();
    let form = SubmitForm::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/submit-example.json"),
    )
    .unwrap();
    // Three different complaints: identical ones would be interchangeable to the
    // contract's evidence (same title, text and channel), so which ref made which
    // complaint could not be told; only their number.
    let submitted: Vec<_> = (0..3)
        .map(|i| {
            let mut f = form.clone();
            f.judul = format!("{} ({})", form.judul, i + 1);
            input::submit(&env.store, &f, "test").unwrap()
        })
        .collect();
    env.sim.set_faults(faults);
    let reports = env.push_until_quiet(40).await;
    let last = reports.last().unwrap();
    for (id, entries) in &queued {
        assert_three_applied(&env, *id, entries, &format!("complaint {id}"));
    }
    let gt = env.truth();
    // New complaints: each on the platform exactly once, found by read-back where the
    // answer was lost (the platform ignores `ref`, so only the evidence protects them).
    let on_platform = gt
        .complaints
        .iter()
        .filter(|c| c.judul.starts_with(&form.judul))
        .count();
    assert_eq!(on_platform, 3, "{on_platform} on the platform");
    for e in &submitted {
        let got = env.entry(e.seq);
        assert!(matches!(got.state, OutboxState::Done { .. }), "{got:?}");
        assert_eq!(gt.applied(&e.ref_), 1);
    }
    let created: std::collections::HashSet<_> = submitted
        .iter()
        .map(|e| {
            env.entry(e.seq)
                .created_tracking_id
                .expect("its tracking id is known")
        })
        .collect();
    assert_eq!(created.len(), 3, "each entry names its own complaint");
    assert_eq!(last.held, 0, "{last:?}");
    assert_eq!(last.outcome, Some(RunOutcome::Ok), "{last:?}");
    let errors: u64 = reports.iter().flat_map(|r| r.errors.values()).sum();
    assert!(errors > 0, "the faults never fired");
    assert_exactly_once(&env.store, &gt);
    assert_logs_clean(&env, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_the_run_and_loses_nothing() {
    logs();
    let env = start(63, 60, Faults::default()).await;
    let id = env.pick(Status::BelumDitindaklanjuti, 1)[0];
    let d = env.dispose(id, "DPUPKP");
    let bad = sp4n::upstream::Client::new(
        &env.sim.upstream_config(),
        sp4n::upstream::Token::new("{00000000-0000-4000-8000-000000000000}"),
    )
    .unwrap();
    let r = sp4n::push::run(&env.store, &bad, &env.opts())
        .await
        .unwrap();
    assert_eq!(r.outcome, Some(RunOutcome::TokenRefused));
    let e = env.entry(d.seq);
    assert_eq!(e.state, OutboxState::Pending);
    assert!(e.last_error.as_deref().unwrap().contains("TOKEN_INVALID"));
    assert!(!e.outcome_unknown, "a refused token applied nothing");
    assert_eq!(env.truth().applied(&d.ref_), 0);
    let r = env.push().await;
    assert_eq!(r.sent, 1);
    let gt = env.truth();
    assert_exactly_once(&env.store, &gt);
    assert_logs_clean(&env, &gt);
}

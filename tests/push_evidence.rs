//! Exactly once on a deployment that ignores `ref` (no deduplication, no echo), by the
//! contract's evidence: every write kind with its answer dropped after it was applied is
//! found on the platform by read-back and never sent twice; a target that already holds
//! before the first attempt is not a write; two intended follow-ups with the same text
//! both land, once each; evidence is still found when the platform's clock is two minutes
//! behind ours. Counted by the simulator's ground truth.

mod support;
use support::push as push_support;

use push_support::*;
use sp4n::model::Status;
use sp4n::push::input::{self, StatusChange, SubmitForm};
use sp4n::sim::Faults;
use sp4n::store::{OutboxEntry, OutboxState, RunOutcome};

/// The platform ignores `ref` and drops the connection of every write after applying it.
fn old_deployment_dropping_every_answer() -> Faults {
    Faults {
        ignore_ref: true,
        apply_then_drop_every: 1,
        ..Faults::default()
    }
}

fn selesai(env: &Env, id: u64) -> OutboxEntry {
    input::set_status(
        &env.store,
        &StatusChange {
            tracking_id: id,
            status: Status::Selesai,
            reason: "Sudah selesai ditangani.".into(),
        },
        "test",
    )
    .unwrap()
}

fn submit_form(judul: &str) -> SubmitForm {
    let mut form = SubmitForm::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/submit-example.json"),
    )
    .unwrap();
    form.judul = judul.into();
    form
}

fn done_evidence(env: &Env, e: &OutboxEntry) -> String {
    match env.entry(e.seq).state {
        OutboxState::Done { evidence, .. } => evidence.unwrap_or_default(),
        other => panic!("{} is {other:?}", e.request.action.kind()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_kind_whose_answer_is_dropped_is_applied_exactly_once() {
    let env = start(81, 120, Faults::default()).await;
    let id = env.pick_open_elsewhere(1)[0];
    let d = env.dispose(id, "DPUPKP");
    let f = env.followup(
        id,
        "DPUPKP",
        "Tim sudah meninjau lokasi.\r\nPerbaikan dijadwalkan.",
    );
    let s = selesai(&env, id);
    let n = input::submit(&env.store, &submit_form("Pohon tumbang di jalan"), "test").unwrap();
    env.sim.set_faults(old_deployment_dropping_every_answer());

    let reports = env.push_until_quiet(10).await;
    let done_by_read_back: u64 = reports.iter().map(|r| r.done_by_read_back).sum();
    let sent: u64 = reports.iter().map(|r| r.sent).sum();
    assert_eq!((sent, done_by_read_back), (0, 4), "{reports:?}");
    assert_eq!(reports.last().unwrap().outcome, Some(RunOutcome::Ok));

    let gt = env.truth();
    for e in [&d, &f, &s, &n] {
        assert_eq!(gt.applied(&e.ref_), 1, "{}", e.request.action.kind());
        assert!(
            done_evidence(&env, e).starts_with("dibaca ulang"),
            "{}",
            e.request.action.kind()
        );
    }
    let c = gt.complaint(id).unwrap();
    assert_eq!(c.unit.as_ref().unwrap().id, "2406");
    assert_eq!(c.status, Status::Selesai);
    let ours: Vec<_> = c
        .thread
        .iter()
        .filter(|t| t.isi.contains("Perbaikan dijadwalkan."))
        .collect();
    assert_eq!(ours.len(), 1, "the follow-up is on the thread once");
    assert!(ours[0].ref_.is_none(), "this deployment echoes no ref");
    // The follow-up's entry names the thread entry it found.
    match env.entry(f.seq).state {
        OutboxState::Done { transaksi_id, .. } => assert_eq!(transaksi_id, ours[0].transaksi_id),
        other => panic!("{other:?}"),
    }
    let created = env
        .entry(n.seq)
        .created_tracking_id
        .expect("found in the stream");
    assert_eq!(
        gt.complaint(created).unwrap().judul,
        "Pohon tumbang di jalan"
    );
    assert_eq!(
        gt.complaints
            .iter()
            .filter(|c| c.judul == "Pohon tumbang di jalan")
            .count(),
        1
    );
    assert_exactly_once(&env.store, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_and_hangs_mixed_with_good_answers_apply_each_write_once() {
    let env = start_with_timeout(82, 200, Faults::default(), 2).await;
    let ids = env.pick_open_elsewhere(6);
    let mut entries = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        entries.push(env.dispose(*id, "DPUPKP"));
        entries.push(env.followup(*id, "DPUPKP", &format!("Tindak lanjut nomor {i}.")));
        entries.push(selesai(&env, *id));
    }
    for j in 0..3 {
        entries.push(
            input::submit(&env.store, &submit_form(&format!("Aduan baru {j}")), "t").unwrap(),
        );
    }
    env.sim.set_faults(Faults {
        ignore_ref: true,
        apply_then_drop_every: 2,
        apply_then_hang_every: 5,
        truncate_every: 7,
        ..Faults::default()
    });
    let reports = env.push_until_quiet(20).await;
    let last = reports.last().unwrap();
    assert_eq!((last.pending, last.held), (0, 0), "{reports:?}");
    let read_back: u64 = reports.iter().map(|r| r.done_by_read_back).sum();
    assert!(read_back >= 5, "the faults fired: {reports:?}");
    let gt = env.truth();
    for e in &entries {
        assert_eq!(gt.applied(&e.ref_), 1, "{}", e.request.action.kind());
    }
    for (i, id) in ids.iter().enumerate() {
        let c = gt.complaint(*id).unwrap();
        let text = format!("Tindak lanjut nomor {i}.");
        assert_eq!(c.thread.iter().filter(|t| t.isi == text).count(), 1);
        assert_eq!(c.status, Status::Selesai);
    }
    assert_exactly_once(&env.store, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disposition_to_the_unit_already_set_is_not_sent() {
    let env = start(83, 200, Faults::default()).await;
    // A complaint the platform already disposed to DPUPKP's unit.
    let id = env
        .store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .find(|s| {
            s.in_stream
                && matches!(
                    s.complaint.status,
                    Status::BelumDitindaklanjuti | Status::Proses
                )
                && s.complaint.unit.as_ref().is_some_and(|u| u.id == "2406")
        })
        .expect("the world has a complaint at unit 2406")
        .tracking_id();
    let d = env.dispose(id, "DPUPKP");
    let before = env.truth().complaint(id).unwrap().diperbarui;
    let r = env.push().await;
    assert_eq!((r.sent, r.already_true), (0, 1), "{r:?}");
    assert_eq!(r.outcome, Some(RunOutcome::Ok));
    assert_eq!(env.truth().applied(&d.ref_), 0, "nothing was sent");
    assert_eq!(env.truth().complaint(id).unwrap().diperbarui, before);
    let ev = done_evidence(&env, &d);
    assert!(
        ev.contains("sudah berlaku di platform") && ev.contains("2406"),
        "{ev}"
    );
    assert_eq!(env.entry(d.seq).attempts, 0);
    assert_exactly_once(&env.store, &env.truth());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selesai_on_a_complaint_the_platform_closed_meanwhile_is_not_sent() {
    let env = start(84, 120, Faults::default()).await;
    let id = env.pick_open_elsewhere(1)[0];
    env.dispose(id, "DPUPKP");
    env.followup(id, "DPUPKP", "Perbaikan sudah dikerjakan.");
    let r = env.push().await;
    assert_eq!(r.sent, 2, "{r:?}");
    // Queued while the complaint is in Proses; the reporter stays silent for more than
    // ten working days and the platform closes it before the entry is sent.
    let s = selesai(&env, id);
    env.sim.advance(chrono::Duration::days(16));
    assert_eq!(env.truth().complaint(id).unwrap().status, Status::Selesai);
    let r = env.push().await;
    assert_eq!((r.sent, r.already_true, r.held), (0, 1, 0), "{r:?}");
    assert_eq!(env.truth().applied(&s.ref_), 0);
    let ev = done_evidence(&env, &s);
    assert!(ev.contains("status sudah Selesai"), "{ev}");
    assert_exactly_once(&env.store, &env.truth());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_text_posted_twice_on_purpose_lands_twice_once_each() {
    let env = start(85, 120, Faults::default()).await;
    let id = env.pick_open_elsewhere(1)[0];
    env.dispose(id, "DPUPKP");
    assert_eq!(env.push().await.sent, 1);
    let text = "Mohon kirim foto lokasi terbaru.";
    let a = env.followup(id, "DPUPKP", text);
    let b = env.followup(id, "DPUPKP", text);
    env.sim.set_faults(old_deployment_dropping_every_answer());
    let reports = env.push_until_quiet(6).await;
    assert_eq!(
        reports.last().unwrap().outcome,
        Some(RunOutcome::Ok),
        "{reports:?}"
    );
    let gt = env.truth();
    assert_eq!((gt.applied(&a.ref_), gt.applied(&b.ref_)), (1, 1));
    let posted: Vec<_> = gt
        .complaint(id)
        .unwrap()
        .thread
        .iter()
        .filter(|t| t.isi == text)
        .map(|t| t.transaksi_id.clone())
        .collect();
    assert_eq!(
        posted.len(),
        2,
        "both intended follow-ups are on the thread"
    );
    let tx = |e: &OutboxEntry| match env.entry(e.seq).state {
        OutboxState::Done { transaksi_id, .. } => transaksi_id,
        other => panic!("{other:?}"),
    };
    let (ta, tb) = (tx(&a), tx(&b));
    assert_ne!(ta, tb, "each entry took its own thread entry as evidence");
    assert!(posted.contains(&ta) && posted.contains(&tb));
    assert_exactly_once(&env.store, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_found_with_the_platform_clock_two_minutes_behind() {
    let env = start(86, 120, Faults::default()).await;
    env.ahead_seconds
        .store(120, std::sync::atomic::Ordering::SeqCst);
    let id = env.pick_open_elsewhere(1)[0];
    let d = env.dispose(id, "DPUPKP");
    let f = env.followup(id, "DPUPKP", "Petugas sudah datang ke lokasi.");
    let s = selesai(&env, id);
    let n = input::submit(&env.store, &submit_form("Saluran air tersumbat"), "t").unwrap();
    env.sim.set_faults(old_deployment_dropping_every_answer());
    let reports = env.push_until_quiet(8).await;
    let read_back: u64 = reports.iter().map(|r| r.done_by_read_back).sum();
    assert_eq!(read_back, 4, "{reports:?}");
    let gt = env.truth();
    for e in [&d, &f, &s, &n] {
        assert_eq!(gt.applied(&e.ref_), 1, "{}", e.request.action.kind());
    }
    assert_exactly_once(&env.store, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_submission_not_yet_visible_waits_instead_of_resending() {
    let env = start(87, 60, Faults::default()).await;
    env.sim.set_faults(Faults {
        ignore_ref: true,
        ..Faults::default()
    });
    let n = input::submit(&env.store, &submit_form("Jembatan retak"), "t").unwrap();
    // As after a crash between marking the attempt in flight and sending it: the
    // outcome is unknown, and the platform never saw it.
    let mut e = env.entry(n.seq);
    e.outcome_unknown = true;
    e.attempts = 1;
    e.first_attempt_at = Some(env.sim.now());
    e.last_attempt_at = Some(env.sim.now());
    e.next_attempt_at = env.sim.now();
    env.store.update_entry(&e).unwrap();
    // Within the visibility delay, absence proves nothing: it waits, nothing is sent.
    let mut o = env.opts();
    o.visibility_delay_seconds = 600;
    let r = sp4n::push::run(&env.store, &env.client, &o).await.unwrap();
    assert_eq!((r.sent, r.deferred, r.pending), (0, 1, 1), "{r:?}");
    assert_eq!(r.outcome, Some(RunOutcome::Partial), "an entry is left");
    assert_eq!(env.truth().applied(&n.ref_), 0);
    let waiting = env.entry(n.seq);
    assert!(waiting.last_error.unwrap().contains("belum terlihat"));
    assert!(waiting.outcome_unknown);
    // After the delay it is still absent: not applied, so it is sent, once.
    env.sim.advance(chrono::Duration::minutes(10));
    let r = env.push().await;
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(env.truth().applied(&n.ref_), 1);
    assert_exactly_once(&env.store, &env.truth());
}

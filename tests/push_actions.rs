//! Every push action end to end against the simulator over TLS, with a real store: the
//! platform's ground truth shows each effect exactly once with its ref applied once;
//! entries of one complaint go in order; conflicts are held with the upstream status,
//! retried after a fix, or discarded with the reason in the history; bad input is refused
//! with a message and nothing is queued; paused OPDs wait.

mod support;
use support::push as push_support;

use push_support::*;
use sp4n::mapping::Opd;
use sp4n::model::Status;
use sp4n::push::input::{self, FollowUp, InputError, OpdDirectory, StatusChange, SubmitForm};
use sp4n::sim::{FaultKind, Faults, ScriptedFault};
use sp4n::store::{EventKind, OutboxState};

fn status(env: &Env, id: u64, s: Status, reason: &str) -> sp4n::store::OutboxEntry {
    input::set_status(
        &env.store,
        &StatusChange {
            tracking_id: id,
            status: s,
            reason: reason.into(),
        },
        "test",
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_type_reaches_the_platform_exactly_once() {
    let env = start(51, 120, Faults::default()).await;
    let [a, b, c] = env.pick(Status::BelumDitindaklanjuti, 3)[..] else {
        unreachable!()
    };
    let d_a = env.dispose(a, "DPUPKP");
    let f_a = env.followup(
        a,
        "DPUPKP",
        "Lubang jalan sudah ditambal pada 25 November 2026.",
    );
    let s_a = status(
        &env,
        a,
        Status::Selesai,
        "Perbaikan selesai dan sudah dicek lapangan.",
    );
    let s_b = status(
        &env,
        b,
        Status::Ditunda,
        "Menunggu foto lokasi dari pelapor.",
    );
    let d_c = env.dispose(c, "DINKES");
    let s_c = status(
        &env,
        c,
        Status::BukanWewenang,
        "Bukan kewenangan Pemkab Kulon Progo.",
    );
    let form = SubmitForm::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/submit-example.toml"),
    )
    .unwrap();
    let n_new = input::submit(&env.store, &form, "test").unwrap();

    let r = env.push().await;
    assert_eq!(r.sent, 7, "{r:?}");
    assert_eq!(
        (r.held, r.deferred, r.done_by_read_back),
        (0, 0, 0),
        "{r:?}"
    );
    assert_eq!(r.outcome, Some(sp4n::store::RunOutcome::Ok));

    let gt = env.truth();
    for e in [&d_a, &f_a, &s_a, &s_b, &d_c, &s_c, &n_new] {
        assert_eq!(gt.applied(&e.ref_), 1, "{}", e.request.action.kind());
        assert!(matches!(env.entry(e.seq).state, OutboxState::Done { .. }));
    }
    let ca = gt.complaint(a).unwrap();
    assert_eq!(ca.unit.as_ref().unwrap().id, "2406");
    assert_eq!(ca.status, Status::Selesai);
    let ours: Vec<_> = ca
        .thread
        .iter()
        .filter(|t| t.ref_.as_deref() == Some(f_a.ref_.as_str()))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        ours[0].isi,
        "Lubang jalan sudah ditambal pada 25 November 2026."
    );
    assert_eq!(gt.complaint(b).unwrap().status, Status::Ditunda);
    let cc = gt.complaint(c).unwrap();
    assert_eq!(
        (cc.status, cc.unit.as_ref().unwrap().id.as_str()),
        (Status::BukanWewenang, "2405")
    );
    let new: Vec<_> = gt
        .complaints
        .iter()
        .filter(|c| c.judul == form.judul)
        .collect();
    assert_eq!(new.len(), 1, "the submitted complaint exists once");
    assert_eq!(new[0].status, Status::BelumTerverifikasi);

    // A confirmed disposition starts the SLA clock and the local routing follows it.
    let sa = env.store.get_complaint(a).unwrap().unwrap();
    assert!(sa.disposed_at.is_some());
    assert_eq!(sa.opd(), "DPUPKP");
    let events = env.store.events(a).unwrap();
    let done = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::OutboxDone { .. }))
        .count();
    assert_eq!(done, 3);

    // Nothing left: a second run sends nothing and applies nothing again.
    let r2 = env.push().await;
    assert_eq!(r2.done(), 0);
    assert_exactly_once(&env.store, &env.truth());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_follow_up_never_overtakes_the_first() {
    let env = start(52, 60, Faults::default()).await;
    let id = env.pick(Status::BelumDitindaklanjuti, 1)[0];
    env.dispose(id, "DPUPKP");
    assert_eq!(env.push().await.sent, 1);
    let first = env.followup(id, "DPUPKP", "Tindak lanjut pertama: tim sudah ke lokasi.");
    let second = env.followup(id, "DPUPKP", "Tindak lanjut kedua: perbaikan dijadwalkan.");
    // The first follow-up fails temporarily (HTTP 500, nothing applied).
    env.sim.set_faults(Faults {
        script: vec![ScriptedFault {
            kind: FaultKind::Internal,
            endpoint: Some("addtindaklanjut".into()),
        }],
        ..Faults::default()
    });
    let r = env.push().await;
    assert_eq!((r.sent, r.deferred), (0, 1), "{r:?}");
    let gt = env.truth();
    assert_eq!(gt.applied(&first.ref_), 0);
    assert_eq!(
        gt.applied(&second.ref_),
        0,
        "the second went before the first"
    );
    assert!(
        env.entry(first.seq)
            .last_error
            .as_deref()
            .unwrap()
            .contains("INTERNAL")
    );

    let r = env.push().await;
    assert_eq!(r.sent, 2, "{r:?}");
    let gt = env.truth();
    let refs: Vec<_> = gt
        .complaint(id)
        .unwrap()
        .thread
        .iter()
        .filter_map(|t| t.ref_.clone())
        .collect();
    assert_eq!(refs, vec![first.ref_.clone(), second.ref_.clone()]);
    assert_exactly_once(&env.store, &gt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_on_a_complaint_closed_by_silence_is_held_then_retried_or_discarded() {
    let env = start(53, 60, Faults::default()).await;
    let id = env.pick(Status::BelumDitindaklanjuti, 1)[0];
    env.dispose(id, "DPUPKP");
    env.followup(id, "DPUPKP", "Sudah kami terima dan dijadwalkan perbaikan.");
    let r = env.push().await;
    // The disposition is sent, or found already true when the platform had set that unit.
    assert_eq!(r.sent + r.already_true, 2, "{r:?}");
    // Locally the complaint is still 'Proses' when the next follow-up is queued.
    let late = env.followup(id, "DPUPKP", "Perbaikan sudah selesai dikerjakan.");
    // The reporter stays silent for more than 10 working days: the platform closes it.
    env.sim.advance(chrono::Duration::days(16));
    assert_eq!(env.truth().complaint(id).unwrap().status, Status::Selesai);

    let r = env.push().await;
    assert_eq!((r.sent, r.held_now, r.held), (0, 1, 1), "{r:?}");
    assert_eq!(r.errors.get("status_conflict"), Some(&1));
    match env.entry(late.seq).state {
        OutboxState::Held {
            reason,
            upstream_status,
        } => {
            assert!(reason.starts_with("STATUS_CONFLICT"), "{reason}");
            assert_eq!(upstream_status.as_deref(), Some("Selesai"));
        }
        other => panic!("not held: {other:?}"),
    }
    let held_event = env
        .store
        .events(id)
        .unwrap()
        .into_iter()
        .any(|e| matches!(&e.kind, EventKind::OutboxHeld { ref_, .. } if *ref_ == late.ref_));
    assert!(held_event);
    // Held entries block later ones of the same complaint.
    let blocked = env.followup(id, "DPUPKP", "Foto hasil perbaikan terlampir di portal.");
    assert_eq!(env.push().await.done(), 0);
    assert_eq!(env.truth().applied(&blocked.ref_), 0);

    // The fix: the reporter answers, the platform reopens it; a person retries.
    let now = env.sim.now();
    assert!(
        env.sim
            .with_world(|w| w.reporter_reply(id, now, "Masih ada yang belum diperbaiki."))
    );
    input::retry(&env.store, late.seq, "admin").unwrap();
    let r = env.push().await;
    assert_eq!((r.sent, r.held), (2, 0), "{r:?}");
    assert_eq!(env.truth().applied(&late.ref_), 1);
    assert_eq!(env.truth().applied(&blocked.ref_), 1);

    // Discard: recorded in the history with the reason and who; never sent.
    let extra = env.followup(id, "DPUPKP", "Catatan tambahan yang ternyata tidak perlu.");
    input::discard(
        &env.store,
        extra.seq,
        "Dobel, sudah dijawab di portal.",
        "admin",
    )
    .unwrap();
    assert_eq!(env.push().await.done(), 0);
    assert_eq!(env.truth().applied(&extra.ref_), 0);
    let discarded = env
        .store
        .events(id)
        .unwrap()
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::OutboxDiscarded { ref_, reason, by } if ref_ == extra.ref_ => {
                Some((reason, by))
            }
            _ => None,
        });
    assert_eq!(
        discarded,
        Some((
            "Dobel, sudah dijawab di portal.".to_string(),
            "admin".to_string()
        ))
    );
    let e = input::discard(&env.store, extra.seq, "lagi", "admin").unwrap_err();
    assert!(e.to_string().contains("discarded"), "{e}");
    assert_exactly_once(&env.store, &env.truth());
}

/// A directory where DISHUB was dissolved yesterday.
struct Dissolved(sp4n::mapping::Mappings);

impl OpdDirectory for Dissolved {
    fn lookup(&self, code: &str) -> Option<Opd> {
        let mut o = self.0.lookup(code)?;
        if code == "DPUPKP" {
            o.valid_to = Some(self.today() - chrono::Days::new(1));
        }
        Some(o)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_message_and_nothing_is_queued() {
    let env = start(54, 60, Faults::default()).await;
    let id = env.pick(Status::BelumDitindaklanjuti, 1)[0];
    env.dispose(id, "DPUPKP");
    let before = env.store.outbox_all().unwrap().len();
    let fu = |tid: u64, opd: &str, text: &str| FollowUp {
        tracking_id: tid,
        opd: opd.into(),
        text: text.into(),
    };
    let err = |r: Result<sp4n::store::OutboxEntry, InputError>| r.unwrap_err();

    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(999_999_999, "DPUPKP", "x"),
        "t",
    ));
    assert!(
        matches!(e, InputError::UnknownComplaint(_)) && e.to_string().contains("sp4n pull"),
        "{e}"
    );
    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(id, "DPUPKP", "   "),
        "t",
    ));
    assert!(e.to_string().contains("empty"), "{e}");
    let long = "a".repeat(10_001);
    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(id, "DPUPKP", &long),
        "t",
    ));
    assert!(e.to_string().contains("10001 characters"), "{e}");
    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(id, "NOPE", "Sudah."),
        "t",
    ));
    assert!(e.to_string().contains("not in mappings/opd.toml"), "{e}");
    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(id, "DINKES", "Sudah."),
        "t",
    ));
    assert!(matches!(e, InputError::WrongOpd { .. }), "{e}");
    assert!(e.to_string().contains("sp4n dispose"), "{e}");
    let e = err(input::followup(
        &env.store,
        &Dissolved(mappings()),
        &fu(id, "DPUPKP", "Sudah."),
        "t",
    ));
    assert!(matches!(e, InputError::InactiveOpd { .. }), "{e}");
    let e = err(input::followup(
        &env.store,
        &env.mappings,
        &fu(id, "ADMIN", "Sudah."),
        "t",
    ));
    assert!(
        matches!(e, InputError::NoUnit(_) | InputError::WrongOpd { .. }),
        "{e}"
    );
    let sc = |s: Status| StatusChange {
        tracking_id: id,
        status: s,
        reason: "Alasan.".into(),
    };
    let e = err(input::set_status(&env.store, &sc(Status::Selesai), "t"));
    assert!(e.to_string().contains("only from 'Proses'"), "{e}");
    let e = err(input::set_status(&env.store, &sc(Status::Arsip), "t"));
    assert!(e.to_string().contains("cannot be set"), "{e}");
    let bad: SubmitForm = toml::from_str("judul = \"\"\nisi = \"x\"\nanonim = true\n").unwrap();
    let e = err(input::submit(&env.store, &bad, "t"));
    assert!(e.to_string().contains("judul"), "{e}");
    let bad: SubmitForm = toml::from_str("judul = \"Lampu\"\nisi = \"x\"\n").unwrap();
    let e = err(input::submit(&env.store, &bad, "t"));
    assert!(e.to_string().contains("reporter is required"), "{e}");
    assert_eq!(
        env.store.outbox_all().unwrap().len(),
        before,
        "nothing was queued"
    );

    // A follow-up queued now counts: 'selesai' fits once a follow-up is waiting.
    env.followup(id, "DPUPKP", "Sudah ditangani.");
    input::set_status(&env.store, &sc(Status::Selesai), "t").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_of_a_paused_opd_wait() {
    let env = start(55, 60, Faults::default()).await;
    let id = env.pick(Status::BelumDitindaklanjuti, 1)[0];
    let d = env.dispose(id, "DPUPKP");
    let mut opts = env.opts();
    opts.paused_opds.insert("DPUPKP".into());
    let r = sp4n::push::run(&env.store, &env.client, &opts)
        .await
        .unwrap();
    assert_eq!((r.sent, r.skipped_paused), (0, 1), "{r:?}");
    assert_eq!(env.entry(d.seq).state, OutboxState::Pending);
    assert_eq!(env.truth().applied(&d.ref_), 0);
    assert_eq!(env.push().await.sent, 1);
    assert_eq!(env.truth().applied(&d.ref_), 1);
}

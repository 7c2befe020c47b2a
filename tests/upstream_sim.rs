//! The client against the simulator over real loopback TLS: every endpoint, the CA trusted
//! through `ca_file`, the token kept out of logs and errors, every rule of the contract
//! (status transitions, `ref` idempotency, keyset order, late visibility, ignore-ref), and
//! the faults classified as the spec's table says.

use chrono::Duration;
use sp4n::model::{NewComplaint, Status, StreamKey, TrackingId};
use sp4n::sim::{self, ClockMode, FaultKind, Faults, ScriptedFault, SimHandle, SimOptions};
use sp4n::upstream::{Action, Client, ErrorCode, Token, UpstreamError, WriteAction, WriteRequest};

fn start_time() -> chrono::DateTime<chrono::Utc> {
    sp4n::model::parse_timestamp("2026-11-23T09:00:00+07:00").unwrap()
}

/// A simulator on a driven clock where nothing happens unless a test makes it happen.
async fn quiet_sim(complaints: usize) -> (tempfile::TempDir, SimHandle, Client) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SimOptions::new(7, complaints, dir.path());
    opts.clock = ClockMode::Driven(start_time());
    opts.events_per_day = 0;
    let sim = sim::start(opts).await.unwrap();
    let client = Client::new(&sim.upstream_config(), sim.token()).unwrap();
    (dir, sim, client)
}

fn since_ever() -> StreamKey {
    StreamKey::since(sp4n::model::parse_timestamp("2020-01-01T00:00:00+07:00").unwrap())
}

async fn read_all(client: &Client, from: StreamKey, batas: u32) -> Vec<sp4n::model::Complaint> {
    let mut key = from;
    let mut out = Vec::new();
    loop {
        let page = client.get_stream(&key, batas).await.unwrap();
        assert!(page.set_aside.is_empty());
        out.extend(page.items.into_iter().map(|r| r.complaint));
        match page.next {
            Some(k) => key = k,
            None => return out,
        }
    }
}

fn code(e: &UpstreamError) -> ErrorCode {
    e.code()
        .cloned()
        .unwrap_or(ErrorCode::Other(e.kind().into()))
}

fn first_in(sim: &SimHandle, status: Status, skip: usize) -> TrackingId {
    sim.ground_truth()
        .complaints
        .iter()
        .filter(|c| c.status == status)
        .nth(skip)
        .unwrap_or_else(|| panic!("no complaint #{skip} in {status}"))
        .tracking_id
}

fn tl(id: TrackingId, r: &str, isi: &str) -> WriteRequest {
    WriteRequest {
        ref_: r.into(),
        action: WriteAction::TindakLanjut {
            tracking_id: id,
            unit: "2406".into(),
            isi: isi.into(),
        },
    }
}

fn set(id: TrackingId, r: &str, nilai: Status) -> WriteRequest {
    WriteRequest {
        ref_: r.into(),
        action: WriteAction::SetStatus {
            tracking_id: id,
            nilai,
            alasan: "Sudah dicek.".into(),
        },
    }
}

fn dispo(id: TrackingId, r: &str, unit: &str) -> WriteRequest {
    WriteRequest {
        ref_: r.into(),
        action: WriteAction::Disposisi {
            tracking_id: id,
            unit: unit.into(),
            catatan: "Mohon ditindaklanjuti.".into(),
        },
    }
}

#[tokio::test]
async fn every_endpoint_over_tls_with_the_ca_file() {
    let (_d, sim, client) = quiet_sim(300).await;
    let topics = client.get_topics().await.unwrap();
    assert_eq!(topics.len(), 24);
    assert!(topics.iter().any(|t| t.id == "41" && t.parent == "4"));
    let units = client.get_units().await.unwrap();
    assert_eq!(units.len(), 42);
    assert_eq!(units[0].id, "2401");
    assert_eq!(units[41].name, "Kapanewon Samigaluh");
    assert!(units.iter().all(|u| u.active));

    let truth = sim.ground_truth();
    let all = read_all(&client, since_ever(), 37).await;
    assert_eq!(all.len(), truth.complaints.len() + truth.left_stream.len());
    assert!(
        all.windows(2).all(|w| w[0].key() < w[1].key()),
        "keyset order"
    );
    for c in &all {
        assert_eq!(
            Some(c),
            truth.complaint(c.tracking_id),
            "stream equals truth"
        );
    }

    let id = first_in(&sim, Status::BelumDitindaklanjuti, 0);
    let got = client.get_laporan(id).await.unwrap();
    assert_eq!(Some(&got.complaint), truth.complaint(id));
    assert!(got.raw.starts_with("<laporan trackingid=\""));

    let a = client.write(&dispo(id, "r-dispo", "2406")).await.unwrap();
    assert!(a.transaksi_id.starts_with("DS-") && !a.duplikat);
    let b = client
        .write(&tl(id, "r-tl", "Sudah dijadwalkan."))
        .await
        .unwrap();
    assert_eq!(b.tracking_id, id);
    let c = client
        .write(&set(id, "r-set", Status::Selesai))
        .await
        .unwrap();
    assert_eq!(c.tracking_id, id);
    let new = WriteRequest {
        ref_: "r-new".into(),
        action: WriteAction::AddStream {
            laporan: NewComplaint {
                rahasia: false,
                anonim: true,
                pelapor: None,
                judul: "Lampu jalan mati".into(),
                isi: "Lampu PJU di Jalan Khudori mati.".into(),
                topik_id: Some("43".into()),
                lokasi_kode: Some("34.01.02.2006".into()),
                kanal: Some("sms1708".into()),
            },
        },
    };
    let d = client.write(&new).await.unwrap();
    let fresh = client.get_laporan(d.tracking_id).await.unwrap().complaint;
    assert_eq!(fresh.status, Status::BelumTerverifikasi);
    assert_eq!(
        fresh.lokasi.unwrap().name,
        "Kalurahan Triharjo, Kapanewon Wates"
    );
    let after = sim.ground_truth();
    let done = after.complaint(id).unwrap();
    assert_eq!(done.status, Status::Selesai);
    assert_eq!(done.unit.as_ref().unwrap().id, "2406");
    assert_eq!(done.diperbarui, sim.now());
    assert_eq!(done.thread.last().unwrap().ref_.as_deref(), Some("r-tl"));
    for r in ["r-dispo", "r-tl", "r-set", "r-new"] {
        assert_eq!(after.applied(r), 1, "{r}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn without_the_ca_the_certificate_is_refused() {
    let (_d, sim, _client) = quiet_sim(10).await;
    let mut cfg = sim.upstream_config();
    cfg.ca_file = None;
    let client = Client::new(&cfg, sim.token()).unwrap();
    let e = client.get_topics().await.unwrap_err();
    assert!(
        matches!(e, UpstreamError::Connect(_) | UpstreamError::Transport(_)),
        "{e:?}"
    );
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    sim.shutdown().await;
}

#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

#[tokio::test]
async fn a_refused_token_appears_in_no_log_and_no_error() {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buf.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_d, sim, _client) = quiet_sim(20).await;
    let secret = "{0BADC0DE-1111-4222-8333-444455556666}";
    let client = Client::new(&sim.upstream_config(), Token::new(secret)).unwrap();
    let mut texts = vec![format!("{client:?}")];
    for e in [
        client.get_stream(&since_ever(), 10).await.unwrap_err(),
        client.get_topics().await.unwrap_err(),
        client.get_laporan(1_900_001).await.unwrap_err(),
        client.write(&tl(1_900_001, "r1", "x")).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), Some(&ErrorCode::TokenInvalid), "{e:?}");
        assert_eq!(e.action(), Action::StopAndAlert);
        texts.push(format!("{e} {e:?} {}", e.guidance()));
    }
    tracing::info!(client = ?client, "done");
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        !logs.is_empty(),
        "the subscriber captured the client's logs"
    );
    texts.push(logs);
    for t in texts {
        assert!(!t.contains(secret), "token leaked in: {t}");
        assert!(!t.contains("0BADC0DE"), "token leaked in: {t}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn every_allowed_and_refused_transition() {
    let (_d, sim, client) = quiet_sim(1500).await;
    use Status::*;
    // (starting status, write, allowed?)
    let cases: Vec<(Status, &str, bool)> = vec![
        (BelumDitindaklanjuti, "disposisi", true),
        (Proses, "disposisi", true),
        (Ditunda, "disposisi", false),
        (Selesai, "disposisi", false),
        (Arsip, "disposisi", false),
        (BelumDitindaklanjuti, "tindaklanjut", true),
        (Proses, "tindaklanjut", true),
        (Ditunda, "tindaklanjut", false),
        (Selesai, "tindaklanjut", false),
        (Arsip, "tindaklanjut", false),
        (Proses, "selesai", true),
        (BelumDitindaklanjuti, "selesai", false),
        (Ditunda, "selesai", false),
        (Selesai, "selesai", false),
        (BelumDitindaklanjuti, "ditunda", true),
        (Proses, "ditunda", false),
        (Selesai, "ditunda", false),
        (BelumDitindaklanjuti, "bukan_wewenang", true),
        (Proses, "bukan_wewenang", true),
        (Ditunda, "bukan_wewenang", false),
        (Selesai, "bukan_wewenang", false),
        (Arsip, "bukan_wewenang", false),
        (Proses, "proses", false),
        (Selesai, "arsip", false),
        (BelumDitindaklanjuti, "belum_terverifikasi", false),
    ];
    let mut used: std::collections::HashMap<Status, usize> = Default::default();
    for (i, (from, what, allowed)) in cases.into_iter().enumerate() {
        let n = used.entry(from).or_default();
        let id = first_in(&sim, from, *n);
        *n += 1;
        let r = format!("t{i}");
        let req = match what {
            "disposisi" => dispo(id, &r, "2418"),
            "tindaklanjut" => tl(id, &r, "Ditangani."),
            s => set(id, &r, Status::parse_loose(s).unwrap()),
        };
        let got = client.write(&req).await;
        let now = sim.ground_truth();
        let c = now.complaint(id).unwrap();
        if allowed {
            got.unwrap_or_else(|e| panic!("{what} from {from}: {e}"));
            let expect = match what {
                "disposisi" => from,
                "tindaklanjut" => Proses,
                s => Status::parse_loose(s).unwrap(),
            };
            assert_eq!(c.status, expect, "{what} from {from}");
            assert_eq!(c.diperbarui, sim.now());
            assert_eq!(now.applied(&r), 1);
        } else {
            let e = got.expect_err(&format!("{what} from {from} must be refused"));
            assert_eq!(
                code(&e),
                ErrorCode::StatusConflict,
                "{what} from {from}: {e}"
            );
            assert_eq!(e.action(), Action::HoldForPerson);
            assert_eq!(c.status, from, "nothing applied");
            assert_eq!(now.applied(&r), 0);
        }
    }
    // Bukan Wewenang: the complaint has left; reading or writing it is FORBIDDEN.
    let gone = sim.ground_truth().left_stream[0].tracking_id;
    let e = client.get_laporan(gone).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Forbidden);
    let e = client.write(&tl(gone, "gone", "x")).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Forbidden);
    let e = client.get_laporan(42).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::NotFound);
    assert_eq!(e.action(), Action::HoldForPerson);
    let foreign = sim.with_world(|w| w.a_foreign_id()).unwrap();
    let e = client.get_laporan(foreign).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Forbidden);
    sim.shutdown().await;
}

#[tokio::test]
async fn validation_of_units_and_text_length() {
    let (_d, sim, client) = quiet_sim(400).await;
    let id = first_in(&sim, Status::BelumDitindaklanjuti, 0);
    let e = client.write(&dispo(id, "v1", "9999")).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Validation);
    assert_eq!(e.action(), Action::HoldForPerson);
    sim.set_faults(Faults {
        inactive_units: vec!["2418".into()],
        ..Faults::default()
    });
    let units = client.get_units().await.unwrap();
    assert!(!units.iter().find(|u| u.id == "2418").unwrap().active);
    let e = client.write(&dispo(id, "v2", "2418")).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Validation);
    let e = client.write(&tl(id, "v3", "")).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Validation);
    let e = client
        .write(&tl(id, "v4", &"a".repeat(10_001)))
        .await
        .unwrap_err();
    assert_eq!(code(&e), ErrorCode::Validation, "{e}");
    client
        .write(&tl(id, "v5", &"é".repeat(10_000)))
        .await
        .unwrap();
    let t = sim.ground_truth();
    assert_eq!(t.applied("v4"), 0);
    assert_eq!(t.applied("v5"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn ref_is_idempotent_for_seven_days_and_conflicts_on_other_content() {
    let (_d, sim, client) = quiet_sim(300).await;
    let id = first_in(&sim, Status::Proses, 0);
    let first = client
        .write(&tl(id, "same-ref", "Sudah ditambal."))
        .await
        .unwrap();
    let threads = sim.ground_truth().complaint(id).unwrap().thread.len();
    sim.advance(Duration::hours(1));
    let again = client
        .write(&tl(id, "same-ref", "Sudah ditambal."))
        .await
        .unwrap();
    assert!(again.duplikat);
    assert_eq!(again.transaksi_id, first.transaksi_id);
    let t = sim.ground_truth();
    assert_eq!(t.applied("same-ref"), 1);
    assert_eq!(t.complaint(id).unwrap().thread.len(), threads);
    let e = client
        .write(&tl(id, "same-ref", "Isi lain."))
        .await
        .unwrap_err();
    assert_eq!(code(&e), ErrorCode::RefConflict);
    assert_eq!(e.action(), Action::HoldForPerson);
    // After seven days the platform has forgotten the ref.
    sim.advance(Duration::days(8));
    let id2 = first_in(&sim, Status::Proses, 3);
    let later = client.write(&tl(id2, "same-ref", "Baru.")).await.unwrap();
    assert!(!later.duplikat);
    assert_eq!(sim.ground_truth().applied("same-ref"), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn ignore_ref_mode_applies_twice_and_echoes_nothing() {
    let (_d, sim, client) = quiet_sim(300).await;
    sim.set_faults(Faults {
        ignore_ref: true,
        ..Faults::default()
    });
    let id = first_in(&sim, Status::Proses, 0);
    let a = client.write(&tl(id, "old-deploy", "Satu.")).await.unwrap();
    let b = client.write(&tl(id, "old-deploy", "Satu.")).await.unwrap();
    assert!(!b.duplikat);
    assert_ne!(a.transaksi_id, b.transaksi_id);
    let t = sim.ground_truth();
    assert_eq!(t.applied("old-deploy"), 2);
    let echoed = t
        .complaint(id)
        .unwrap()
        .thread
        .iter()
        .filter(|e| e.ref_.as_deref() == Some("old-deploy"))
        .count();
    assert_eq!(echoed, 0, "an older deployment does not echo ref");
    let posted = t
        .complaint(id)
        .unwrap()
        .thread
        .iter()
        .filter(|e| e.isi == "Satu.")
        .count();
    assert_eq!(posted, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn keyset_order_with_equal_diperbarui_pages_without_loss_or_repeat() {
    let (_d, sim, client) = quiet_sim(300).await;
    let before = sim.now();
    let ids: Vec<TrackingId> = (0..6)
        .map(|i| first_in(&sim, Status::Proses, i))
        .rev()
        .collect();
    sim.advance(Duration::seconds(10));
    for (i, id) in ids.iter().enumerate() {
        client
            .write(&tl(*id, &format!("eq{i}"), "Sama."))
            .await
            .unwrap();
    }
    // All six now share one diperbarui; pages of 1 walk them in tracking-id order.
    let got = read_all(&client, StreamKey::since(before + Duration::seconds(1)), 1).await;
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got.iter().map(|c| c.tracking_id).collect::<Vec<_>>(), want);
    assert!(got.iter().all(|c| c.diperbarui == got[0].diperbarui));
    let page = client
        .get_stream(&StreamKey::since(got[0].diperbarui), 2)
        .await
        .unwrap();
    let next = page.next.unwrap();
    assert_eq!(
        next,
        got[1].key(),
        "<lanjut> is the key of the last item returned"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn late_visibility_hides_fresh_updates_for_up_to_five_minutes() {
    let (_d, sim, client) = quiet_sim(300).await;
    sim.set_faults(Faults {
        late_visibility_max_seconds: 300,
        ..Faults::default()
    });
    let before = sim.now();
    let ids: Vec<TrackingId> = (0..8).map(|i| first_in(&sim, Status::Proses, i)).collect();
    for (i, id) in ids.iter().enumerate() {
        client
            .write(&tl(*id, &format!("lv{i}"), "Baru."))
            .await
            .unwrap();
    }
    let seen_now = read_all(&client, StreamKey::since(before), 100).await;
    assert!(
        seen_now.len() < ids.len(),
        "some updates are not visible yet"
    );
    sim.advance(Duration::seconds(301));
    let seen_later = read_all(&client, StreamKey::since(before), 100).await;
    assert_eq!(seen_later.len(), ids.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn platform_closes_after_ten_working_days_and_a_reply_reopens() {
    let (_d, sim, client) = quiet_sim(300).await;
    let a = first_in(&sim, Status::BelumDitindaklanjuti, 0);
    let b = first_in(&sim, Status::BelumDitindaklanjuti, 1);
    client.write(&tl(a, "ac-a", "Ditangani.")).await.unwrap();
    client.write(&tl(b, "ac-b", "Ditangani.")).await.unwrap();
    sim.advance(Duration::days(2));
    let t = sim.now();
    sim.with_world(|w| w.reporter_reply(b, t, "Belum beres."));
    // 23 Nov 2026 + 10 working days = 7 Dec 2026 (no holidays in between).
    sim.advance(Duration::days(12));
    let truth = sim.ground_truth();
    assert_eq!(truth.complaint(a).unwrap().status, Status::Selesai);
    assert_eq!(truth.complaint(b).unwrap().status, Status::Proses);
    assert_eq!(
        sp4n::model::format_wib(truth.complaint(a).unwrap().diperbarui),
        "2026-12-07T09:00:00+07:00"
    );
    let t = sim.now();
    sim.with_world(|w| w.reporter_reply(a, t, "Kenapa ditutup?"));
    assert_eq!(
        sim.ground_truth().complaint(a).unwrap().status,
        Status::Proses
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn world_ticks_add_complaints_and_admin_actions() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SimOptions::new(11, 200, dir.path());
    opts.clock = ClockMode::Driven(start_time());
    let sim = sim::start(opts).await.unwrap();
    let before = sim.ground_truth();
    sim.advance(Duration::days(7));
    let after = sim.ground_truth();
    let n_before = before.complaints.len() + before.left_stream.len();
    let n_after = after.complaints.len() + after.left_stream.len();
    assert!(n_after > n_before, "new complaints arrived");
    let changed = after
        .complaints
        .iter()
        .filter(|c| c.diperbarui > before.now && c.dibuat < Some(before.now))
        .count();
    assert!(changed > 0, "existing complaints changed");
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_delivery_and_malformed_items() {
    let (_d, sim, client) = quiet_sim(200).await;
    sim.set_faults(Faults {
        duplicate_delivery: true,
        ..Faults::default()
    });
    let p1 = client.get_stream(&since_ever(), 5).await.unwrap();
    let p2 = client.get_stream(&p1.next.unwrap(), 5).await.unwrap();
    assert_eq!(p1.items.len(), 6);
    assert_eq!(p1.items[5].complaint, p2.items[0].complaint);
    sim.set_faults(Faults {
        malformed_item_every: 3,
        ..Faults::default()
    });
    let p = client.get_stream(&since_ever(), 9).await.unwrap();
    assert_eq!(p.items.len(), 6);
    assert_eq!(p.set_aside.len(), 3);
    assert!(p.set_aside.iter().any(|s| s.reason.contains("trackingid")));
    assert!(p.set_aside.iter().any(|s| s.reason.contains("diperbarui")));
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_are_classified_as_the_spec_says() {
    let (_d, sim, client) = quiet_sim(50).await;
    let script = |kinds: &[FaultKind]| Faults {
        retry_after_seconds: 7,
        script: kinds
            .iter()
            .map(|k| ScriptedFault {
                kind: *k,
                endpoint: None,
            })
            .collect(),
        ..Faults::default()
    };
    sim.set_faults(script(&[
        FaultKind::Internal,
        FaultKind::Maintenance,
        FaultKind::RateLimited,
        FaultKind::Html,
        FaultKind::Error200,
        FaultKind::Truncate,
        FaultKind::Html,
    ]));
    let after7 = Action::RetryLater {
        after: Some(std::time::Duration::from_secs(7)),
    };
    let e = client.get_stream(&since_ever(), 5).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Internal);
    assert_eq!(e.action(), Action::RetryLater { after: None });
    let e = client.get_stream(&since_ever(), 5).await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::Maintenance);
    assert_eq!(e.action(), after7);
    let e = client.get_topics().await.unwrap_err();
    assert_eq!(code(&e), ErrorCode::RateLimited);
    assert_eq!(e.action(), after7);
    let e = client.get_stream(&since_ever(), 5).await.unwrap_err();
    assert!(matches!(e, UpstreamError::Html { status: 200 }), "{e:?}");
    let e = client.get_laporan(1_900_001).await.unwrap_err();
    assert!(
        matches!(
            &e,
            UpstreamError::Rejected {
                code: ErrorCode::Maintenance,
                http: 200,
                ..
            }
        ),
        "{e:?}"
    );
    let e = client.get_stream(&since_ever(), 5).await.unwrap_err();
    assert!(matches!(e, UpstreamError::Malformed { .. }), "{e:?}");
    assert!(e.outcome_unknown());
    let e = client.get_units().await.unwrap_err();
    assert!(matches!(e, UpstreamError::Html { status: 502 }), "{e:?}");
    assert!(
        client.get_stream(&since_ever(), 5).await.is_ok(),
        "script used up"
    );

    sim.set_faults(Faults {
        numeric_ids: true,
        ..Faults::default()
    });
    assert_eq!(client.get_topics().await.unwrap()[4].id, "41");
    assert_eq!(client.get_units().await.unwrap()[0].id, "2401");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hang_times_out_and_apply_then_hang_applies_once() {
    let (_d, sim, client) = quiet_sim(100).await;
    let id = first_in(&sim, Status::Proses, 0);
    sim.set_faults(Faults {
        script: vec![
            ScriptedFault {
                kind: FaultKind::Hang,
                endpoint: Some("getstream".into()),
            },
            ScriptedFault {
                kind: FaultKind::ApplyThenHang,
                endpoint: Some("write".into()),
            },
        ],
        ..Faults::default()
    });
    let from = since_ever();
    let (hung, other) = tokio::join!(client.get_stream(&from, 5), async {
        // A hanging answer blocks no other client.
        client.get_topics().await
    });
    assert!(other.is_ok());
    let e = hung.unwrap_err();
    assert!(matches!(e, UpstreamError::Timeout { .. }), "{e:?}");
    assert_eq!(e.action(), Action::RetryLater { after: None });
    let e = client
        .write(&tl(id, "lost-answer", "Ditangani."))
        .await
        .unwrap_err();
    assert!(matches!(e, UpstreamError::Timeout { .. }), "{e:?}");
    assert!(e.outcome_unknown());
    assert_eq!(sim.ground_truth().applied("lost-answer"), 1);
    let back = client.get_laporan(id).await.unwrap().complaint;
    assert!(
        back.thread
            .iter()
            .any(|t| t.ref_.as_deref() == Some("lost-answer"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_then_drop_applies_the_write_and_breaks_the_answer() {
    let (_d, sim, client) = quiet_sim(300).await;
    let id = first_in(&sim, Status::Proses, 0);
    sim.set_faults(Faults {
        apply_then_drop_every: 1,
        ..Faults::default()
    });
    let e = client
        .write(&tl(id, "dropped", "Ditangani."))
        .await
        .unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
    assert_eq!(e.action(), Action::RetryLater { after: None }, "{e:?}");
    assert_eq!(sim.ground_truth().applied("dropped"), 1);
    // Reads are not affected.
    client.get_laporan(id).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_serves_truth_faults_and_clock() {
    let (_d, sim, client) = quiet_sim(30).await;
    let http = reqwest::Client::new();
    let c = sim.control_url();
    assert!(c.starts_with("http://127.0.0.1:"));
    let body = http.get(format!("{c}/truth")).send().await.unwrap();
    let truth: sim::GroundTruth = serde_json::from_slice(&body.bytes().await.unwrap()).unwrap();
    assert_eq!(truth.complaints.len(), sim.ground_truth().complaints.len());
    let r = http
        .post(format!("{c}/faults"))
        .header("content-type", "application/json")
        .body(r#"{"internal_every": 1}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(sim.faults().internal_every, 1);
    assert_eq!(
        code(&client.get_topics().await.unwrap_err()),
        ErrorCode::Internal
    );
    let before = sim.now();
    let r = http
        .post(format!("{c}/clock"))
        .header("content-type", "application/json")
        .body(r#"{"advance_seconds": 3600}"#)
        .send()
        .await
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(sim.now(), before + Duration::hours(1));
    assert!(r["now"].is_string());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_clients_read_the_whole_stream() {
    let (_d, sim, _) = quiet_sim(2000).await;
    // Fifty clients share two cores (and a debug build): this test is about completeness
    // under concurrency, so the time limit is generous rather than the tests' usual 5 s.
    let mut up = sim.upstream_config();
    up.read_timeout_seconds = 120;
    up.total_timeout_seconds = 120;
    let client = Client::new(&up, sim.token()).unwrap();
    let total = {
        let t = sim.ground_truth();
        t.complaints.len() + t.left_stream.len()
    };
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50u32 {
        let client = client.clone();
        set.spawn(async move { read_all(&client, since_ever(), 100 + i * 8).await.len() });
    }
    while let Some(n) = set.join_next().await {
        assert_eq!(n.unwrap(), total);
    }
    sim.shutdown().await;
}

#[test]
fn a_world_of_100k_complaints_pages_by_index() {
    let now = start_time();
    let w = sim::World::new(3, 100_000, now, 0);
    assert_eq!(w.len(), 100_000);
    let mut key = since_ever();
    let mut seen = 0;
    for _ in 0..5 {
        let p = w.page(&key, 500, now);
        assert_eq!(p.items.len(), 500);
        seen += p.items.len();
        key = p.next.unwrap();
    }
    assert_eq!(seen, 2500);
    // The same seed always gives the same world.
    let again = sim::World::new(3, 1000, now, 0).page(&since_ever(), 50, now);
    let once = sim::World::new(3, 1000, now, 0).page(&since_ever(), 50, now);
    assert_eq!(again.items, once.items);
}

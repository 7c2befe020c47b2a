use super::*;
use crate::model::{Complaint, Status};
use crate::model::{WriteAction, WriteRequest};
use chrono::TimeZone;

pub(crate) fn complaint(id: TrackingId, minute: u32) -> Complaint {
    Complaint {
        tracking_id: id,
        rahasia: false,
        anonim: true,
        judul: format!("Judul {id}"),
        isi: "Isi".into(),
        klasifikasi: None,
        topik: None,
        tags: vec![],
        kanal: None,
        lokasi: None,
        pelapor: None,
        status: Status::BelumDitindaklanjuti,
        unit: None,
        dibuat: None,
        diperbarui: Utc.with_ymd_and_hms(2026, 11, 20, 1, minute, 0).unwrap(),
        lampiran: vec![],
        thread: vec![],
    }
}

fn stored(c: Complaint) -> StoredComplaint {
    let now = Utc::now();
    StoredComplaint {
        hash: content_hash(&c),
        raw: "<laporan/>".into(),
        complaint: c,
        first_seen: now,
        last_seen: now,
        in_stream: true,
        left_reason: None,
        routing: None,
        disposed_at: None,
        sla: Default::default(),
    }
}

fn dispo(tid: TrackingId) -> NewOutboxEntry {
    NewOutboxEntry {
        opd: "DPUPKP".into(),
        requested_by: "test".into(),
        request: WriteRequest {
            ref_: new_ref(),
            action: WriteAction::Disposisi {
                tracking_id: tid,
                unit: "2406".into(),
                catatan: "x".into(),
            },
        },
    }
}

#[test]
fn page_commit_is_readable_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let c = complaint(5, 1);
    let key = c.key();
    {
        let s = Store::open(dir.path()).unwrap();
        s.commit_page(PageCommit {
            upserts: vec![(stored(c.clone()), vec![EventKind::FirstSeen])],
            set_aside: vec![NewQuarantine {
                tracking_id: None,
                reason: "bad".into(),
                raw: vec![0xff, 0x00],
            }],
            cursor: Some(key),
            outbox: vec![dispo(5)],
            run_id: None,
        })
        .unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.get_complaint(5).unwrap().unwrap().complaint, c);
    assert_eq!(s.cursor().unwrap(), Some(key));
    let ev = s.events(5).unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].kind, EventKind::FirstSeen);
    assert!(matches!(ev[1].kind, EventKind::OutboxQueued { .. }));
    let q = s.quarantined().unwrap();
    assert_eq!(q[0].raw_bytes(), vec![0xff, 0x00]);
    assert_eq!(s.outbox_unfinished().unwrap().len(), 1);
    assert_eq!(s.complaint_hash(5).unwrap(), Some(content_hash(&c)));
}

#[test]
fn second_open_is_locked_with_pid() {
    let dir = tempfile::tempdir().unwrap();
    let _s = Store::open(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn other_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    std::fs::write(dir.path().join(FORMAT_FILE), "sp4n-store 99\n").unwrap();
    let e = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(e, StoreError::WrongVersion { found: 99, .. }),
        "{e}"
    );
    assert_eq!(e.exit_code(), 5);
}

#[test]
fn eligible_gives_oldest_unfinished_per_complaint_and_held_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let a = s.enqueue(vec![dispo(1), dispo(1), dispo(2)]).unwrap();
    let now = Utc::now();
    let el: Vec<u64> = s.eligible(now).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(el, vec![a[0].seq, a[2].seq]);
    let mut held = a[0].clone();
    held.state = OutboxState::Held {
        reason: "STATUS_CONFLICT".into(),
        upstream_status: Some("Selesai".into()),
    };
    s.update_entry(&held).unwrap();
    let el: Vec<u64> = s.eligible(now).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(el, vec![a[2].seq], "a held entry blocks later ones");
    assert_eq!(s.held_count().unwrap(), 1);
    let mut done = held.clone();
    done.state = OutboxState::Discarded {
        reason: "x".into(),
        by: "admin".into(),
        at: now,
    };
    s.update_entry(&done).unwrap();
    let el: Vec<u64> = s.eligible(now).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(el, vec![a[1].seq, a[2].seq]);
    let kinds: Vec<_> = s.events(1).unwrap().into_iter().map(|e| e.kind).collect();
    assert!(
        matches!(kinds[2], EventKind::OutboxHeld { .. }),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds[3], EventKind::OutboxDiscarded { .. }),
        "{kinds:?}"
    );
    // Not yet due.
    let mut later = s.outbox_entry(a[1].seq).unwrap().unwrap();
    later.next_attempt_at = now + chrono::Duration::minutes(5);
    later.attempts = 1;
    s.update_entry(&later).unwrap();
    let el: Vec<u64> = s.eligible(now).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(el, vec![a[2].seq]);
    assert_eq!(s.outbox_by_ref(&a[2].ref_).unwrap().unwrap().seq, a[2].seq);
}

#[test]
fn tokens_are_looked_up_by_hash_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let t = ApiToken {
        name: "dinkes".into(),
        role: "opd:DINKES".into(),
        hash: hash_secret("s3cret"),
        created: Utc::now(),
    };
    s.create_token(&t).unwrap();
    assert!(matches!(s.create_token(&t), Err(StoreError::Refused(_))));
    assert_eq!(s.token_by_hash(&hash_secret("s3cret")).unwrap(), Some(t));
    assert!(s.revoke_token("dinkes").unwrap());
    assert!(!s.revoke_token("dinkes").unwrap());
    assert_eq!(s.token_by_hash(&hash_secret("s3cret")).unwrap(), None);
}

#[test]
fn update_complaint_edits_and_appends_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    s.commit_page(PageCommit {
        upserts: vec![(stored(complaint(9, 1)), vec![EventKind::FirstSeen])],
        ..Default::default()
    })
    .unwrap();
    let out = s
        .update_complaint(
            9,
            |rec| {
                rec.routing = Some(Routing {
                    opd: "DINKES".into(),
                    rule_id: "triage".into(),
                    revision: "r1".into(),
                    routed_at: Utc::now(),
                    by: RoutedBy::Person("admin".into()),
                });
                Ok(vec![EventKind::TriageAssigned {
                    opd: "DINKES".into(),
                    by: "admin".into(),
                    note: "n".into(),
                }])
            },
            vec![],
        )
        .unwrap()
        .unwrap();
    assert_eq!(out.opd(), "DINKES");
    assert_eq!(s.events(9).unwrap().len(), 2);
    let refused = s.update_complaint(9, |_| Err(StoreError::Refused("no".into())), vec![]);
    assert!(matches!(refused, Err(StoreError::Refused(_))));
    assert!(
        s.update_complaint(10, |_| Ok(vec![]), vec![])
            .unwrap()
            .is_none()
    );
    let id = s
        .save_run_report(&RunReport {
            job: "pull".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.run_reports(Some("pull"), 5).unwrap()[0].id, id);
}

#[test]
fn a_page_stores_each_complaints_events_as_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let kinds = vec![EventKind::FirstSeen, EventKind::Closed];
    s.commit_page(PageCommit {
        upserts: vec![
            (stored(complaint(7, 1)), kinds.clone()),
            (stored(complaint(8, 2)), vec![]),
        ],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        s.inner.events.len(),
        1,
        "one row for complaint 7, none for 8"
    );
    let ev = s.events(7).unwrap();
    assert_eq!(ev.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(), kinds);
    assert!(ev[0].seq < ev[1].seq, "each event keeps its own seq");
    assert!(ev.iter().all(|e| e.tracking_id == 7));
    // Later single-row events (update_complaint, append_event) follow in order.
    let later = s.append_event(7, EventKind::Reopened).unwrap();
    let ev = s.events(7).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[2].seq, later.seq);
    assert_eq!(s.event_count(), 3);
    assert!(s.events(8).unwrap().is_empty());
}

fn commit(s: &Store, recs: Vec<StoredComplaint>) {
    s.commit_page(PageCommit {
        upserts: recs
            .into_iter()
            .map(|r| (r, vec![EventKind::FirstSeen]))
            .collect(),
        ..Default::default()
    })
    .unwrap();
}

fn segments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(blobs::BLOB_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn first_segment(dir: &Path) -> std::path::PathBuf {
    dir.join(blobs::BLOB_DIR).join(&segments(dir)[0])
}

#[test]
fn superseded_records_are_counted_and_compaction_reclaims_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    commit(&s, (1..=50).map(|id| stored(complaint(id, 1))).collect());
    assert_eq!(s.value_log_usage().unwrap().1, 0, "nothing superseded yet");
    assert_eq!(
        s.compact(false).unwrap(),
        None,
        "below the threshold: nothing to do"
    );
    for round in 2..6 {
        let mut recs: Vec<_> = (1..=50).map(|id| stored(complaint(id, round))).collect();
        recs[0].raw = format!("<laporan round=\"{round}\"/>");
        commit(&s, recs);
    }
    s.update_complaint(
        7,
        |r| {
            r.in_stream = false;
            Ok(vec![])
        },
        vec![],
    )
    .unwrap();
    let (size, dead) = s.value_log_usage().unwrap();
    assert!(dead > 0 && dead < size, "{dead} of {size}");
    let before = segments(dir.path());

    let reclaimed = s.compact(true).unwrap().expect("forced compaction runs");
    assert_eq!(
        reclaimed, dead,
        "exactly the superseded bytes are reclaimed"
    );
    let (after, dead_after) = s.value_log_usage().unwrap();
    assert_eq!((after, dead_after), (size - dead, 0));
    assert!(
        segments(dir.path()).iter().all(|n| !before.contains(n)),
        "old segments deleted"
    );
    let one = s.get_complaint(1).unwrap().unwrap();
    assert_eq!(one.complaint, complaint(1, 5));
    assert_eq!(one.raw, "<laporan round=\"5\"/>");
    assert!(!s.get_complaint(7).unwrap().unwrap().in_stream);
    assert_eq!(
        s.events(1).unwrap().len(),
        5,
        "event batches moved with the records"
    );
    drop(s);

    // Reopened: the same records, through the new pointers.
    let s = Store::open(dir.path()).unwrap();
    let mut n = 0;
    s.for_each_complaint(|c| {
        n += 1;
        assert_eq!(c.complaint.diperbarui, complaint(1, 5).diperbarui);
        assert_eq!(c.hash, content_hash(&c.complaint));
        true
    })
    .unwrap();
    assert_eq!(n, 50);
    assert_eq!(s.event_count(), 250);
}

#[test]
fn segments_left_by_an_interrupted_compaction_are_deleted_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    commit(&s, vec![stored(complaint(1, 1))]);
    s.compact(true).unwrap();
    let live = segments(dir.path());
    drop(s);
    // As if the process died after switching pointers, before deleting segment 1.
    std::fs::write(
        dir.path().join(blobs::BLOB_DIR).join("00000001.log"),
        b"old",
    )
    .unwrap();
    let s = reopen(dir.path());
    assert_eq!(segments(dir.path()), live);
    assert_eq!(
        s.get_complaint(1).unwrap().unwrap().complaint,
        complaint(1, 1)
    );
}

#[test]
fn a_torn_tail_stays_unreferenced_and_appends_continue_after_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        commit(&s, vec![stored(complaint(1, 1))]);
    }
    // A crash in the middle of an append: half a frame at the end of the segment.
    let seg = first_segment(dir.path());
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, &[200, 0, 0, 0, 1, 2]).unwrap();
    drop(f);
    let s = Store::open(dir.path()).unwrap();
    commit(&s, vec![stored(complaint(2, 1))]);
    assert_eq!(
        s.get_complaint(1).unwrap().unwrap().complaint,
        complaint(1, 1)
    );
    assert_eq!(
        s.get_complaint(2).unwrap().unwrap().complaint,
        complaint(2, 1)
    );
}

#[test]
fn a_damaged_record_is_an_error_naming_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    commit(&s, vec![stored(complaint(1, 1))]);
    let seg = first_segment(dir.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[12] ^= 0xff; // inside the first value: the record (its frame header is 8 bytes)
    std::fs::write(&seg, bytes).unwrap();
    match s.get_complaint(1) {
        Err(e @ StoreError::Damaged { .. }) => {
            assert!(e.to_string().contains("00000001.log"), "{e}");
            assert_eq!(e.exit_code(), 5);
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
    drop(s);
    std::fs::remove_file(&seg).unwrap();
    let s = Store::open(dir.path()).unwrap();
    // A lost segment: damage too, never a panic.
    let e = s.get_complaint(1).unwrap_err();
    assert!(matches!(e, StoreError::Damaged { .. }), "{e}");
}

#[test]
fn readers_see_every_record_while_compactions_move_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    commit(&s, (1..=300).map(|id| stored(complaint(id, 1))).collect());
    commit(&s, (1..=300).map(|id| stored(complaint(id, 2))).collect());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (s, stop) = (s.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rounds = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || rounds == 0 {
                    let mut n = 0;
                    s.for_each_complaint(|c| {
                        assert_eq!(c.complaint, complaint(c.tracking_id(), 2));
                        n += 1;
                        true
                    })
                    .unwrap();
                    assert_eq!(n, 300);
                    let id = 1 + (rounds + r) % 300;
                    assert_eq!(
                        s.get_complaint(id).unwrap().unwrap().complaint,
                        complaint(id, 2)
                    );
                    assert_eq!(s.events(id).unwrap().len(), 2);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for _ in 0..10 {
        s.compact(true).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("a reader failed") > 0);
    }
}

/// Opens the store again in this process. sled's flusher thread may still hold the
/// dropped store's file lock for a moment (a dead process holds none), so a refused lock
/// is tried again, for at most five seconds.
fn reopen(path: &std::path::Path) -> Store {
    for _ in 0..250 {
        match Store::open(path) {
            Err(e) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.unwrap(),
        }
    }
    Store::open(path).unwrap()
}

//! `sp4n triage list|assign` as an administrator runs them: the real binary, a real sled
//! store, the simulator over TLS. Assign records the decision and queues the disposition
//! in one update; `sp4n push` then lands it upstream exactly once.

mod support;
use support::mapcli as mapcli_support;

use chrono::{Duration, TimeZone, Utc};
use sp4n::model::Status;
use sp4n::sim::{ClockMode, SimOptions};
use sp4n::store::{EventKind, RoutedBy, Store};
use sp4n::upstream::WriteAction;
use std::path::Path;

use mapcli_support::{copy_mappings, sp4n, write_config};

/// The shipped opd.toml and calendar with one narrow rule, so most complaints land at
/// the triage desk.
fn mappings(dir: &Path) -> std::path::PathBuf {
    let to = copy_mappings(dir);
    std::fs::write(
        to.join("rules.toml"),
        "[[rule]]\nid = \"jalan\"\ndescription = \"Jalan dan jembatan\"\ntarget = \"DPUPKP\"\npriority = 10\ntopics = [\"41\"]\n",
    )
    .unwrap();
    to
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_lists_oldest_first_and_assign_lands_upstream_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(23, 200, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let store = dir.path().join("store");
    let cfg = write_config(dir.path(), &sim, &mappings(dir.path()), false);
    let o = sp4n(Some(&cfg), &["pull", "--quiet"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);

    // Make the open triage complaint with the highest tracking id the oldest one.
    let oldest = {
        let s = Store::open(&store).unwrap();
        let id = s
            .list_complaints(&Default::default())
            .unwrap()
            .into_iter()
            .filter(|c| {
                c.opd() == "ADMIN"
                    && c.in_stream
                    && matches!(
                        c.complaint.status,
                        Status::BelumDitindaklanjuti | Status::Proses
                    )
            })
            .map(|c| c.tracking_id())
            .max()
            .expect("no open complaint at ADMIN");
        s.update_complaint(
            id,
            |r| {
                r.first_seen -= Duration::days(14);
                Ok(vec![])
            },
            vec![],
        )
        .unwrap();
        id
    };

    let o = sp4n(Some(&cfg), &["triage", "list", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&o.stdout).unwrap();
    assert!(rows.len() > 1);
    assert_eq!(rows[0]["tracking_id"], oldest);
    assert!(rows[0]["age_working_days"].as_u64().unwrap() >= 8);
    let seen: Vec<String> = rows
        .iter()
        .map(|r| r["first_seen"].as_str().unwrap().to_string())
        .collect();
    let firsts: Vec<chrono::DateTime<Utc>> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]), "not oldest first");
    {
        let s = Store::open(&store).unwrap();
        for r in &rows {
            let rec = s
                .get_complaint(r["tracking_id"].as_u64().unwrap())
                .unwrap()
                .unwrap();
            assert_eq!(rec.opd(), "ADMIN");
            assert!(rec.in_stream && !rec.complaint.status.is_closed());
            assert_eq!(r["rahasia"], rec.complaint.rahasia);
        }
    }
    let o = sp4n(Some(&cfg), &["triage", "list"]).await;
    assert!(
        o.stdout.contains(&oldest.to_string()) && o.stdout.contains("menunggu triase"),
        "{}",
        o.stdout
    );

    // Refused: an unknown OPD, and ADMIN itself (no unit account). Nothing recorded.
    let id = oldest.to_string();
    let o = sp4n(Some(&cfg), &["triage", "assign", &id, "NOPE"]).await;
    assert_eq!(o.code, Some(2), "{}", o.stdout);
    assert!(
        o.stderr.contains("not in mappings/opd.toml"),
        "{}",
        o.stderr
    );
    let o = sp4n(Some(&cfg), &["triage", "assign", &id, "ADMIN"]).await;
    assert_eq!(o.code, Some(2), "{}", o.stdout);
    assert!(o.stderr.contains("no unit account"), "{}", o.stderr);
    let o = sp4n(Some(&cfg), &["triage", "assign", "999999999", "DPUPKP"]).await;
    assert_eq!(o.code, Some(2), "{}", o.stdout);
    {
        let s = Store::open(&store).unwrap();
        assert!(s.outbox_all().unwrap().is_empty());
        assert_eq!(s.get_complaint(oldest).unwrap().unwrap().opd(), "ADMIN");
    }

    let o = sp4n(
        Some(&cfg),
        &[
            "triage",
            "assign",
            &id,
            "DPUPKP",
            "--note",
            "Mohon dicek ke lokasi.",
            "--by",
            "budi",
            "--json",
        ],
    )
    .await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let r = v["disposition_ref"].as_str().unwrap().to_string();
    assert_eq!(v["from"], "ADMIN");
    {
        let s = Store::open(&store).unwrap();
        let rec = s.get_complaint(oldest).unwrap().unwrap();
        let routing = rec.routing.unwrap();
        assert_eq!(routing.opd, "DPUPKP");
        assert_eq!(routing.by, RoutedBy::Person("budi".into()));
        let ev = s.events(oldest).unwrap();
        assert!(ev.iter().any(|e| e.kind
            == EventKind::TriageAssigned {
                opd: "DPUPKP".into(),
                by: "budi".into(),
                note: "Mohon dicek ke lokasi.".into()
            }));
        assert!(
            ev.iter()
                .any(|e| e.kind == EventKind::OutboxQueued { ref_: r.clone() })
        );
        let all = s.outbox_all().unwrap();
        assert_eq!(all.len(), 1);
        assert!(matches!(
            &all[0].request.action,
            WriteAction::Disposisi { tracking_id, unit, catatan }
                if *tracking_id == oldest && unit == "2406" && catatan == "Mohon dicek ke lokasi."
        ));
    }
    let o = sp4n(Some(&cfg), &["triage", "list", "--json"]).await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&o.stdout).unwrap();
    assert!(rows.iter().all(|r| r["tracking_id"] != oldest));

    for _ in 0..2 {
        let o = sp4n(Some(&cfg), &["push"]).await;
        assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    }
    let gt = sim.ground_truth();
    assert_eq!(gt.writes_applied.get(&r), Some(&1));
    let c = gt
        .complaints
        .iter()
        .find(|c| c.tracking_id == oldest)
        .unwrap();
    assert_eq!(c.unit.as_ref().map(|u| u.id.as_str()), Some("2406"));
}

//! `sp4n report` (text, JSON, CSV) and `sp4n status` (text, JSON) snapshots through the
//! real binary, over a store filled by a real pull (with auto-dispose) and push against
//! the simulator on a driven clock, reported as of a fixed moment. No reporter identity or
//! complaint text appears in any of them.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use sp4n::mapping::{MappingRouter, Mappings};
use sp4n::pull::{Mode, PullOptions};
use sp4n::push::PushOptions;
use sp4n::sim::{ClockMode, SimOptions};
use sp4n::store::Store;
use sp4n::upstream::Client;
use std::path::Path;
use std::sync::Arc;

/// Monday 2 November 2026, 09:00 WIB.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
}

fn mappings_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

async fn sp4n(cfg: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = support::command(Some(cfg))
        .args(args)
        .output()
        .await
        .unwrap();
    (
        o.status.code(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_status_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut so = SimOptions::new(65, 60, &dir.path().join("sim"));
    so.clock = ClockMode::Driven(t0());
    so.events_per_day = 0;
    let sim = sp4n::sim::start(so).await.unwrap();
    let client = Client::new(&sim.upstream_config(), sim.token()).unwrap();
    let store_dir = dir.path().join("store");
    {
        let store = Store::open(&store_dir).unwrap();
        let m = Arc::new(Mappings::load(&mappings_dir()).unwrap().0);
        let mut o = PullOptions::new(Mode::Pull);
        o.auto_dispose = true;
        o.clock = Arc::new(t0);
        sp4n::pull::pull(&store, &client, Arc::new(MappingRouter(m.clone())), &o)
            .await
            .unwrap();
        // Half a day later the dispositions go out.
        sim.advance(chrono::Duration::hours(4));
        // Entries are queued at the wall-clock time; a clock far ahead makes them due.
        let po = PushOptions {
            clock: Arc::new(|| Utc::now() + chrono::Duration::days(3650)),
            ..PushOptions::default()
        };
        let pr = sp4n::push::run(&store, &client, &po).await.unwrap();
        // auto_dispose only disposes complaints the platform has not disposed yet.
        assert!(pr.done() > 3, "{pr:?}");
        // The next pull sees the units the dispositions set, with the platform's time.
        let mut o = PullOptions::new(Mode::Pull);
        o.clock = Arc::new(|| t0() + chrono::Duration::hours(4));
        sp4n::pull::pull(&store, &client, Arc::new(MappingRouter(m)), &o)
            .await
            .unwrap();
        store.flush().unwrap();
    }
    let cfg = dir.path().join("sp4n.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\nbase_url = \"{}\"\ntoken_file = \"{}\"\nca_file = \"{}\"\n\n[store]\npath = \"{}\"\n\n[mappings]\ndir = \"{}\"\n",
            sim.base_url(),
            sim.token_file().display(),
            sim.ca_file().display(),
            store_dir.display(),
            mappings_dir().display()
        ),
    )
    .unwrap();

    // Three weeks on: some dispositions' first follow-up clocks are overdue, the triage
    // desk's disposition clocks too.
    let at = "2026-11-23T03:00:00Z";
    let (code, text, err) = sp4n(&cfg, &["report", "--at", at]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("https://www.lapor.go.id/pengaduan/"),
        "{text}"
    );
    insta::assert_snapshot!("report_text", text);
    let (_, json, _) = sp4n(&cfg, &["report", "--format", "json", "--at", at]).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["overdue"].as_array().unwrap().len() > 1, "{json}");
    insta::assert_snapshot!("report_json", json);
    let (_, csv, _) = sp4n(&cfg, &["report", "--format", "csv", "--at", at]).await;
    assert!(csv.starts_with('\u{feff}'));
    insta::assert_snapshot!("report_csv", csv);
    let (_, csv_semi, _) = sp4n(
        &cfg,
        &[
            "report",
            "--format",
            "csv",
            "--csv-style",
            "semicolon",
            "--at",
            at,
        ],
    )
    .await;
    assert!(csv_semi.lines().next().unwrap().contains(';'));
    // The period filters on the date first seen.
    let (_, empty, _) = sp4n(
        &cfg,
        &["report", "--json", "--from", "2026-11-03", "--at", at],
    )
    .await;
    let e: serde_json::Value = serde_json::from_str(&empty).unwrap();
    assert_eq!(e["total"]["received"], 0, "{empty}");

    // No reporter identity, no complaint text.
    let truth = sim.ground_truth();
    for c in &truth.complaints {
        let mut needles: Vec<String> = vec![c.isi.chars().take(40).collect()];
        if let Some(p) = &c.pelapor {
            needles.extend([p.email.clone(), p.telpon.clone()]);
        }
        for n in needles.iter().filter(|n| n.len() > 5) {
            for out in [&text, &json, &csv] {
                assert!(
                    !out.contains(n.as_str()),
                    "complaint text or reporter leaked"
                );
            }
        }
    }

    // Status without an agent, normalised where it depends on the machine.
    let norm = |s: &str| {
        s.replace(&store_dir.display().to_string(), "<store>")
            .replace(&mappings_dir().display().to_string(), "<mappings>")
    };
    let (code, status_json, err) = sp4n(&cfg, &["status", "--json", "--at", at]).await;
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let mut sj: serde_json::Value = serde_json::from_str(&status_json).unwrap();
    assert_eq!(sj["outbox"]["depth"], 0, "{status_json}");
    assert_eq!(sj["store"]["complaints"], 60);
    sj["store"]["size_bytes"] = 0.into();
    for j in sj["jobs"].as_array_mut().unwrap() {
        if j["last_run"].is_object() {
            j["last_run"] = "<last run>".into();
            j["last_success"] = "<last success>".into();
        }
    }
    insta::assert_snapshot!(
        "status_json",
        norm(&serde_json::to_string_pretty(&sj).unwrap())
    );
    let (_, status_text, _) = sp4n(&cfg, &["status", "--at", at]).await;
    assert!(status_text.contains("pull"), "{status_text}");
    assert!(status_text.contains("60"), "{status_text}");
}

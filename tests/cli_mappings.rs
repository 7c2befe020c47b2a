//! `sp4n mappings check|explain|preview` and `sp4n reroute` as an administrator runs them:
//! the real binary, a real sled store, the simulator over TLS where a platform is needed,
//! and a temporary copy of the shipped `mappings/` that the test edits.

mod support;
use support::mapcli as mapcli_support;

use chrono::{TimeZone, Utc};
use sp4n::sim::{ClockMode, SimHandle, SimOptions};
use sp4n::store::{EventKind, RoutedBy, Store};
use sp4n::upstream::WriteAction;
use std::collections::BTreeMap;
use std::path::Path;

use mapcli_support::{copy_mappings, sp4n, write_config};

async fn start_sim(dir: &Path) -> SimHandle {
    let mut so = SimOptions::new(7, 300, &dir.join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    sp4n::sim::start(so).await.unwrap()
}

/// Every stored complaint's routing (the store is closed again after).
fn routings(store: &Path) -> BTreeMap<u64, (String, String)> {
    let s = Store::open(store).unwrap();
    s.list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .map(|c| {
            let r = c.routing.clone().unwrap();
            (c.tracking_id(), (r.opd, r.rule_id))
        })
        .collect()
}

/// A rule that moves every Jalan dan Jembatan complaint (topic 41) to Dinas Perhubungan.
const EDIT: &str = "\n[[rule]]\nid = \"uji-pindah-jalan\"\ndescription = \"Uji: jalan ke Dishub\"\ntarget = \"DISHUB\"\npriority = 99999\ntopics = [\"41\"]\n";

#[tokio::test]
async fn check_accepts_the_shipped_files_and_points_at_a_broken_edit() {
    let dir = tempfile::tempdir().unwrap();
    let maps = copy_mappings(dir.path());
    let missing = dir.path().join("none.toml");
    // --dir works without any configuration file.
    let o = sp4n(
        Some(&missing),
        &["mappings", "check", "--dir", maps.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains(": valid (revision"), "{}", o.stdout);

    let rules = maps.join("rules.toml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let at = text.find("target = \"DPUPKP\"").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    std::fs::write(
        &rules,
        text.replacen("target = \"DPUPKP\"", "target = \"DPUPKX\"", 1),
    )
    .unwrap();
    let o = sp4n(
        None,
        &["mappings", "check", "--dir", maps.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    let place = format!("rules.toml:{line}:");
    assert!(o.stdout.contains(&place), "{place} not in\n{}", o.stdout);
    assert!(o.stdout.contains("DPUPKX"), "{}", o.stdout);
    assert!(o.stdout.contains("^^^"), "{}", o.stdout);
    assert!(o.stdout.contains("INVALID"), "{}", o.stdout);

    let o = sp4n(
        None,
        &[
            "mappings",
            "check",
            "--json",
            "--dir",
            maps.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(o.code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap();
    assert!(d["file"].as_str().unwrap().ends_with("rules.toml"));
    assert_eq!(d["line"], line);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_check_explain_preview_and_reroute() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path()).await;
    let maps = copy_mappings(dir.path());
    let cfg = write_config(dir.path(), &sim, &maps, false);
    let store = dir.path().join("store");
    let c = Some(cfg.as_path());

    let o = sp4n(c, &["mappings", "check", "--online"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("matches the platform"), "{}", o.stdout);

    let o = sp4n(c, &["pull", "--quiet"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let before = routings(&store);
    assert!(before.len() > 100);

    // Explain a stored complaint: the rule it matched, and the same rule in JSON.
    // One the rules routed (complaints the platform had disposed are routed by it).
    let (&id, (opd, rule)) = before
        .iter()
        .find(|(_, (_, r))| r != "fallback" && r != "platform-unit")
        .unwrap();
    let o = sp4n(c, &["mappings", "explain", &id.to_string()]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout
            .contains(&format!("Complaint {id} routes to {opd}")),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains(&format!("Matched rule '{rule}'")),
        "{}",
        o.stdout
    );
    let o = sp4n(c, &["mappings", "explain", &id.to_string(), "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["route"]["rule_id"], rule.as_str());
    assert_eq!(v["stored"]["opd"], opd.as_str());

    // Explain from a file: the stored <laporan> XML of the same complaint.
    let raw = {
        let s = Store::open(&store).unwrap();
        s.get_complaint(id).unwrap().unwrap().raw
    };
    let xml = dir.path().join("laporan.xml");
    std::fs::write(&xml, &raw).unwrap();
    let o = sp4n(c, &["mappings", "explain", "--file", xml.to_str().unwrap()]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.contains(&format!("Matched rule '{rule}'")),
        "{}",
        o.stdout
    );
    std::fs::write(&xml, "<laporan trackingid=\"1\">").unwrap();
    let o = sp4n(c, &["mappings", "explain", "--file", xml.to_str().unwrap()]).await;
    assert_eq!(o.code, Some(2), "{}", o.stdout);

    // Edit: preview shows the moves and changes nothing.
    let rules = maps.join("rules.toml");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str(EDIT);
    std::fs::write(&rules, text).unwrap();
    let o = sp4n(c, &["mappings", "preview", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let moves = v["moves"].as_array().unwrap();
    assert!(!moves.is_empty());
    for m in moves {
        assert_eq!(m["to"]["opd"], "DISHUB");
        assert_eq!(m["to"]["rule_id"], "uji-pindah-jalan");
        let tid = m["tracking_id"].as_u64().unwrap();
        assert_eq!(m["from"]["opd"], before[&tid].0.as_str());
    }
    let total: u64 = v["by_pair"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, moves.len());
    let o = sp4n(c, &["mappings", "preview"]).await;
    assert!(o.stdout.contains("would move"), "{}", o.stdout);
    assert!(o.stdout.contains("-> DISHUB"), "{}", o.stdout);
    assert_eq!(routings(&store), before, "preview changed the store");

    // Reroute one complaint.
    let one = moves[0]["tracking_id"].as_u64().unwrap();
    let o = sp4n(c, &["reroute", &one.to_string(), "--by", "budi"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    {
        let s = Store::open(&store).unwrap();
        let rec = s.get_complaint(one).unwrap().unwrap();
        let r = rec.routing.unwrap();
        assert_eq!(r.opd, "DISHUB");
        assert_eq!(r.by, RoutedBy::Person("budi".into()));
        let ev = s.events(one).unwrap();
        assert!(ev.iter().any(|e| e.kind
            == EventKind::Rerouted {
                from: before[&one].0.clone(),
                to: "DISHUB".into(),
                by: "budi".into()
            }));
        assert!(s.outbox_all().unwrap().is_empty(), "auto_dispose is off");
    }
    // Again: nothing changes, nothing recorded.
    let o = sp4n(c, &["reroute", &one.to_string()]).await;
    assert_eq!(o.code, Some(0));
    assert!(o.stdout.contains("Nothing moved"), "{}", o.stdout);

    // --all without a terminal and without --yes is refused, nothing moves.
    let o = sp4n(c, &["reroute", "--all"]).await;
    assert_eq!(o.code, Some(2), "{}", o.stdout);
    assert!(o.stderr.contains("--yes"), "{}", o.stderr);
    assert_eq!(
        routings(&store)[&moves[1]["tracking_id"].as_u64().unwrap()],
        before[&moves[1]["tracking_id"].as_u64().unwrap()]
    );

    // --all --yes with auto_dispose: each move recorded by $USER, dispositions queued.
    write_config(dir.path(), &sim, &maps, true);
    let o = sp4n(c, &["reroute", "--all", "--yes", "--json"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let moved = v["moved"].as_array().unwrap();
    assert_eq!(moved.len(), moves.len() - 1);
    let s = Store::open(&store).unwrap();
    let outbox = s.outbox_all().unwrap();
    for m in moved {
        let tid = m["tracking_id"].as_u64().unwrap();
        let rec = s.get_complaint(tid).unwrap().unwrap();
        assert_eq!(rec.opd(), "DISHUB");
        assert!(s.events(tid).unwrap().iter().any(|e| matches!(
            &e.kind,
            EventKind::Rerouted { to, by, .. } if to == "DISHUB" && by == "admin-uji"
        )));
        if let Some(r) = m["disposition_ref"].as_str() {
            let e = outbox.iter().find(|e| e.ref_ == r).unwrap();
            assert_eq!(e.tracking_id, Some(tid));
            assert!(matches!(
                &e.request.action,
                WriteAction::Disposisi { unit, .. } if unit == "2419"
            ));
        }
    }
    assert!(
        moved.iter().any(|m| m["disposition_ref"].is_string()),
        "no disposition queued"
    );
    assert_eq!(
        outbox.len(),
        moved
            .iter()
            .filter(|m| m["disposition_ref"].is_string())
            .count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_check_says_token_refused_and_platform_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path()).await;
    let maps = copy_mappings(dir.path());
    let cfg = write_config(dir.path(), &sim, &maps, false);
    let good = std::fs::read_to_string(&cfg).unwrap();
    let token_file = sim.upstream_config().token_file.unwrap();

    let bad_token = dir.path().join("bad-token");
    std::fs::write(&bad_token, "not-the-token\n").unwrap();
    std::fs::write(
        &cfg,
        good.replace(
            &token_file.display().to_string(),
            &bad_token.display().to_string(),
        ),
    )
    .unwrap();
    let o = sp4n(Some(&cfg), &["mappings", "check", "--online"]).await;
    assert_eq!(o.code, Some(3), "{}{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("not-the-token"), "{}", o.stderr);

    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = sim.upstream_config().base_url.unwrap();
    std::fs::write(
        &cfg,
        good.replace(&base, &format!("https://127.0.0.1:{port}/")),
    )
    .unwrap();
    let o = sp4n(Some(&cfg), &["mappings", "check", "--online"]).await;
    assert_eq!(o.code, Some(4), "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("gettopics failed"), "{}", o.stderr);
}

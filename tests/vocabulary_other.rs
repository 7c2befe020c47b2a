//! The platform's vocabulary (issue 11): a deployment whose topic and unit ids are not the
//! example files' ids, changes of the vocabulary between pulls, and the platform's own
//! dispositions standing over local rules. The real binary and library, a real sled
//! store, and the simulator over TLS (`--vocabulary other` where a second deployment is
//! needed).

mod support;
use support::mapcli as mapcli_support;

use chrono::{TimeZone, Utc};
use sp4n::mapping::{MappingRouter, Mappings};
use sp4n::pull::{Mode, PullOptions};
use sp4n::sim::{ClockMode, SimHandle, SimOptions, vocabulary};
use sp4n::store::{EventKind, OutboxState, RoutedBy, Store};
use sp4n::upstream::{Client, WriteAction, WriteRequest};
use std::path::Path;
use std::sync::Arc;

/// A rule naming a topic by an example id: adopt renames it by its path of names.
const EDIT: &str = "\n[[rule]]\nid = \"uji-jalan\"\ndescription = \"Uji: jalan ke Dishub\"\ntarget = \"DISHUB\"\npriority = 99999\ntopics = [\"41\"]\n";

use mapcli_support::{copy_mappings, sp4n, write_config};

async fn start_sim(dir: &Path, vocab: &'static sp4n::sim::Vocabulary) -> SimHandle {
    let mut so = SimOptions::new(7, 300, &dir.join("sim"));
    so.clock = ClockMode::Driven(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap());
    so.events_per_day = 0;
    so.vocabulary = vocab;
    sp4n::sim::start(so).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_deployment_adopt_check_pull_route_dispose_follow_up_submit() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), &vocabulary::OTHER).await;
    let maps = copy_mappings(dir.path());
    // An administrator's rule written with an example topic id (41, Jalan dan Jembatan).
    let rules = maps.join("rules.toml");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str(EDIT);
    std::fs::write(&rules, text).unwrap();
    let cfg = write_config(dir.path(), &sim, &maps, false);
    let c = Some(cfg.as_path());

    // The example unit ids are not this deployment's: check --online says so, with the
    // unit the names point to.
    let o = sp4n(c, &["mappings", "check", "--online"]).await;
    assert_eq!(o.code, Some(2), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("did you mean unit 70"), "{}", o.stdout);

    // Adopt: a diff with reasons; nothing written without --write.
    let before = std::fs::read_to_string(maps.join("opd.toml")).unwrap();
    let o = sp4n(c, &["mappings", "adopt"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("-unit_id = \"2405\""), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("# OPD DINKES: name matches unit \"Dinas Kesehatan\""),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("+topics = [\"Pekerjaan Umum dan Penataan Ruang/Jalan dan Jembatan\"]"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("rule uji-jalan: example topic 41 \"Pekerjaan Umum dan Penataan Ruang/Jalan dan Jembatan\" is topic 331 of the platform"),
        "{}",
        o.stdout
    );
    assert_eq!(
        std::fs::read_to_string(maps.join("opd.toml")).unwrap(),
        before
    );
    let o = sp4n(c, &["mappings", "adopt", "--write"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let after = std::fs::read_to_string(maps.join("opd.toml")).unwrap();
    assert!(after.starts_with("# ====="), "comments are kept");
    let dinkes_unit = vocabulary::OTHER.unit_id(2405);
    assert!(after.contains(&format!("unit_id = \"{dinkes_unit}\"")));

    // Offline check now uses the vocabulary the adoption read.
    let o = sp4n(c, &["mappings", "check"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("matches the platform's topics and units read"),
        "{}",
        o.stdout
    );

    // Pull: topic rules route by name; the platform's units stand.
    let o = sp4n(c, &["pull", "--quiet"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let store = Store::open(&dir.path().join("store")).unwrap();
    let all = store.list_complaints(&Default::default()).unwrap();
    let by_topic: Vec<_> = all
        .iter()
        .filter(|c| c.routing.as_ref().unwrap().rule_id == "uji-jalan")
        .collect();
    assert!(
        !by_topic.is_empty(),
        "no complaint was routed by the topic rule"
    );
    for c in &by_topic {
        assert_eq!(c.complaint.topik.as_ref().unwrap().id, "331");
        assert_eq!(c.opd(), "DISHUB");
    }
    let m = Mappings::load_with_topics(
        &maps,
        Some(
            &sp4n::mapping::vocabulary::stored(&store)
                .unwrap()
                .unwrap()
                .topics,
        ),
    )
    .unwrap()
    .0;
    let mut by_platform = 0;
    for c in &all {
        let r = c.routing.as_ref().unwrap();
        if let Some(u) = &c.complaint.unit
            && let Some(o) = m.opd_by_unit(&u.id, sp4n::mapping::today_wib())
        {
            assert_eq!(
                (r.opd.as_str(), &r.by),
                (o.code.as_str(), &RoutedBy::Platform)
            );
            by_platform += 1;
        }
    }
    assert!(by_platform > 0);
    // An open complaint without a unit, to dispose and follow up.
    let target = all
        .iter()
        .find(|c| {
            c.complaint.unit.is_none()
                && c.complaint.status == sp4n::model::Status::BelumDitindaklanjuti
        })
        .unwrap()
        .tracking_id();
    drop(store);
    let id = target.to_string();
    let o = sp4n(c, &["dispose", &id, "DINKES"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let o = sp4n(
        c,
        &[
            "followup",
            &id,
            "--opd",
            "DINKES",
            "--text",
            "Sudah kami tinjau ke lokasi.",
        ],
    )
    .await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    // Submit with one of this deployment's topic ids (Kesehatan is 301 here, 2 in the
    // example tree, which this platform does not know).
    let form = dir.path().join("aduan.toml");
    std::fs::write(
        &form,
        "judul = \"Antrean puskesmas\"\nisi = \"Antrean di puskesmas sangat panjang.\"\ntopik = \"301\"\nanonim = true\n",
    )
    .unwrap();
    let o = sp4n(c, &["submit", "--file", form.to_str().unwrap()]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    std::fs::write(
        &form,
        "judul = \"Antrean puskesmas\"\nisi = \"Antrean di puskesmas sangat panjang.\"\ntopik = \"2\"\nanonim = true\n",
    )
    .unwrap();
    let o = sp4n(c, &["submit", "--file", form.to_str().unwrap()]).await;
    assert_eq!(
        o.code,
        Some(2),
        "the example id is refused: {}{}",
        o.stdout,
        o.stderr
    );

    let o = sp4n(c, &["push"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let o = sp4n(c, &["push"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);

    // Upstream: each write landed once, with this deployment's ids.
    let gt = sim.ground_truth();
    assert!(
        gt.writes_applied.values().all(|n| *n == 1),
        "{:?}",
        gt.writes_applied
    );
    assert_eq!(gt.writes_applied.len(), 3);
    let disposed = gt
        .complaints
        .iter()
        .find(|c| c.tracking_id == target)
        .unwrap();
    assert_eq!(disposed.unit.as_ref().unwrap().id, dinkes_unit);
    assert_eq!(
        disposed.thread.last().unwrap().unit.as_deref(),
        Some(dinkes_unit.as_str())
    );
    assert!(
        gt.complaints
            .iter()
            .any(|c| c.judul == "Antrean puskesmas" && c.topik.as_ref().unwrap().id == "301")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_renamed_and_a_unit_deactivated_between_pulls() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), &vocabulary::STANDARD).await;
    let maps = copy_mappings(dir.path());
    let cfg = write_config(dir.path(), &sim, &maps, false);
    let c = Some(cfg.as_path());
    let o = sp4n(c, &["pull", "--quiet"]).await;
    assert_eq!(o.code, Some(0), "{}{}", o.stdout, o.stderr);
    let revision = Store::open(&dir.path().join("store"))
        .unwrap()
        .mapping_revision()
        .unwrap();

    // A unit deactivated upstream: the OPD entry naming it, by place.
    let mut f = sim.faults();
    f.inactive_units.push("2418".into());
    sim.set_faults(f.clone());
    let o = sp4n(c, &["pull", "--quiet", "--refresh-vocabulary"]).await;
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("unit 2418 \"Dinas Lingkungan Hidup\" dinonaktifkan"),
        "{}",
        o.stdout
    );
    let opd = std::fs::read_to_string(maps.join("opd.toml")).unwrap();
    let at = opd.find("unit_id = \"2418\"").unwrap();
    let line = opd[..at].matches('\n').count() + 1;
    assert!(
        o.stdout.contains(&format!(
            "opd.toml:{line}:11: unit_id 2418 of OPD 'DLH' is inactive upstream"
        )),
        "{}",
        o.stdout
    );
    let o = sp4n(c, &["status"]).await;
    assert!(o.stdout.contains("dinonaktifkan"), "{}", o.stdout);

    // A topic renamed upstream: the rules naming the old name, by place.
    f.inactive_units.clear();
    f.renamed_topics.insert("4".into(), "Pekerjaan Umum".into());
    sim.set_faults(f);
    let o = sp4n(c, &["pull", "--quiet", "--refresh-vocabulary"]).await;
    assert_eq!(o.code, Some(1), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains(
            "topik 4 berganti nama: \"Pekerjaan Umum dan Penataan Ruang\" -> \"Pekerjaan Umum\""
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("unit 2418 \"Dinas Lingkungan Hidup\" aktif kembali"),
        "{}",
        o.stdout
    );
    // The rules naming the old name and the entry naming the inactive unit, by place.
    let rules = std::fs::read_to_string(maps.join("rules.toml")).unwrap();
    let at = rules.find("\"Pekerjaan Umum dan Penataan Ruang\"").unwrap();
    let line = rules[..at].matches('\n').count() + 1;
    assert!(
        o.stdout.contains(&format!("rules.toml:{line}:")),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("no topic of the platform is named"),
        "{}",
        o.stdout
    );
    // The last valid revision keeps routing.
    assert_eq!(
        Store::open(&dir.path().join("store"))
            .unwrap()
            .mapping_revision()
            .unwrap(),
        revision
    );
    // status says what changed and what to do.
    let o = sp4n(c, &["status"]).await;
    assert!(
        o.stdout.contains("kosakata platform berubah"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("sp4n mappings adopt"), "{}", o.stdout);
    let o = sp4n(c, &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["mappings"]["files_valid"], false);
    assert!(
        v["mappings"]["vocabulary"][0]
            .as_str()
            .unwrap()
            .contains("berganti nama")
    );
    sim.shutdown().await;
}

fn library_env(dir: &Path, sim: &SimHandle) -> (Store, Client, Arc<Mappings>) {
    let store = Store::open(&dir.join("store")).unwrap();
    let client = Client::new(&sim.upstream_config(), sim.token()).unwrap();
    let m = Arc::new(
        Mappings::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")))
            .unwrap()
            .0,
    );
    (store, client, m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_pull_with_auto_dispose_never_disposes_over_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), &vocabulary::STANDARD).await;
    let (store, client, m) = library_env(dir.path(), &sim);
    let mut o = PullOptions::new(Mode::Pull);
    o.auto_dispose = true;
    sp4n::pull::pull(&store, &client, Arc::new(MappingRouter(m.clone())), &o)
        .await
        .unwrap();
    let open = |c: &sp4n::store::StoredComplaint| {
        matches!(
            c.complaint.status,
            sp4n::model::Status::BelumDitindaklanjuti | sp4n::model::Status::Proses
        )
    };
    let all = store.list_complaints(&Default::default()).unwrap();
    let with_unit = all
        .iter()
        .filter(|c| open(c) && c.complaint.unit.is_some())
        .count();
    let without = all
        .iter()
        .filter(|c| open(c) && c.complaint.unit.is_none())
        .count();
    assert!(
        with_unit > without,
        "most open complaints carry a unit ({with_unit} vs {without})"
    );
    let queued: Vec<_> = store.outbox_all().unwrap();
    assert!(!queued.is_empty());
    for e in &queued {
        let WriteAction::Disposisi { tracking_id, .. } = &e.request.action else {
            panic!("only dispositions are queued");
        };
        let c = store.get_complaint(*tracking_id).unwrap().unwrap();
        assert!(
            c.complaint.unit.is_none(),
            "disposed over the platform's unit: {tracking_id}"
        );
    }
    // Every open complaint without a unit routed to an OPD with a unit is disposed.
    for c in all.iter().filter(|c| open(c) && c.complaint.unit.is_none()) {
        let r = c.routing.as_ref().unwrap();
        if m.opd(&r.opd).and_then(|o| o.unit_id.clone()).is_some() {
            assert!(
                queued
                    .iter()
                    .any(|e| e.request.action.tracking_id() == Some(c.tracking_id())),
                "{} not disposed",
                c.tracking_id()
            );
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_national_redisposition_moves_the_routing_and_holds_a_queued_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), &vocabulary::STANDARD).await;
    let (store, client, m) = library_env(dir.path(), &sim);
    let router = Arc::new(MappingRouter(m.clone()));
    let o = PullOptions::new(Mode::Pull);
    sp4n::pull::pull(&store, &client, router.clone(), &o)
        .await
        .unwrap();
    // A complaint the rules routed locally, without a unit upstream.
    let c = store
        .list_complaints(&Default::default())
        .unwrap()
        .into_iter()
        .find(|c| {
            c.complaint.unit.is_none()
                && c.complaint.status == sp4n::model::Status::BelumDitindaklanjuti
                && c.opd() != "ADMIN"
                && c.opd() != "DLH"
        })
        .unwrap();
    let id = c.tracking_id();
    let from = c.opd().to_string();
    // Queued locally, not sent yet.
    let queued = sp4n::push::input::dispose(
        &store,
        m.as_ref(),
        &sp4n::push::input::Disposition {
            tracking_id: id,
            opd: from.clone(),
            note: None,
        },
        "budi",
    )
    .unwrap();
    // The national admin disposes it to Dinas Lingkungan Hidup (2418).
    let now = sim.now();
    sim.with_world(|w| {
        w.write(
            &WriteRequest {
                ref_: "NASIONAL-1".into(),
                action: WriteAction::Disposisi {
                    tracking_id: id,
                    unit: "2418".into(),
                    catatan: "Dialihkan oleh admin nasional".into(),
                },
            },
            now,
            false,
            &[],
        )
        .unwrap();
    });
    sim.advance(chrono::Duration::minutes(1));
    sp4n::pull::pull(&store, &client, router, &o).await.unwrap();
    let rec = store.get_complaint(id).unwrap().unwrap();
    assert_eq!(rec.opd(), "DLH");
    assert_eq!(rec.routing.as_ref().unwrap().by, RoutedBy::Upstream);
    let history: Vec<EventKind> = store
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(history.contains(&EventKind::Rerouted {
        from: from.clone(),
        to: "DLH".into(),
        by: "upstream".into(),
    }));
    let e = store.outbox_entry(queued.seq).unwrap().unwrap();
    match &e.state {
        OutboxState::Held { reason, .. } => {
            assert!(reason.contains("the platform disposed"), "{reason}")
        }
        s => panic!("the queued disposition must be held, is {s:?}"),
    }
    assert!(
        history
            .iter()
            .any(|k| matches!(k, EventKind::OutboxHeld { .. }))
    );
    // The check the push loop calls says the same of the entry as it was queued.
    assert!(sp4n::pull::platform::disposition_overridden(&queued, &rec).is_some());
    sim.shutdown().await;
}

//! Routing inside the sync: new complaints are routed with the mapping files and the rule
//! and revision are recorded; routing is sticky across edits; an invalid edit keeps the
//! last valid revision routing, even across separate runs.

mod support;
use support::pull as pull_support;

use pull_support::{opts, start};
use sp4n::mapping::{ActiveError, MappingRouter, Mappings, load_active, today_wib};
use sp4n::pull::Mode;
use sp4n::sim::Faults;
use sp4n::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn shipped_copy(into: &Path) -> PathBuf {
    let dir = into.join("mappings");
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    for f in ["opd.toml", "rules.toml", "calendar.toml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    dir
}

fn break_opd_file(dir: &Path) {
    let p = dir.join("opd.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{text}\n[[opd]]\nkode_salah = 1\n")).unwrap();
}

#[test]
fn an_invalid_edit_keeps_the_last_valid_revision_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = shipped_copy(tmp.path());
    let store = Store::open(&tmp.path().join("store")).unwrap();

    let first = load_active(&dir, &store).unwrap();
    assert!(first.rejected.is_none());
    let good = first.mappings.revision().to_string();
    assert_eq!(
        store.mapping_revision().unwrap().as_deref(),
        Some(good.as_str())
    );

    break_opd_file(&dir);
    let second = load_active(&dir, &store).unwrap();
    let errors = second.rejected.expect("the broken edit is reported");
    assert!(!errors.is_empty());
    assert!(errors[0].file.ends_with("opd.toml"), "{:?}", errors[0].file);
    assert!(errors[0].line > 1);
    assert_eq!(
        second.mappings.revision(),
        good,
        "the last valid revision keeps routing"
    );

    // A store that never saw a valid revision cannot route: the caller exits 2.
    let fresh = Store::open(&tmp.path().join("fresh")).unwrap();
    assert!(matches!(
        load_active(&dir, &fresh),
        Err(ActiveError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_complaints_are_routed_and_routing_is_sticky() {
    let env = start(11, 300, Faults::default()).await;
    let dir = shipped_copy(env.dir.path());
    let active = load_active(&dir, &env.store).unwrap();
    let mappings = active.mappings.clone();
    let router = Arc::new(MappingRouter(mappings.clone()));
    let report = sp4n::pull::pull(&env.store, &env.client, router, &opts(Mode::Pull))
        .await
        .unwrap();
    assert_eq!(report.new, 300);

    let stored = env.store.list_complaints(&Default::default()).unwrap();
    let mut routed_elsewhere = 0;
    for s in &stored {
        let r = s.routing.as_ref().expect("every new complaint is routed");
        assert_eq!(r.revision, mappings.revision());
        if s.complaint.unit.is_none() {
            let expected = mappings.route(&s.complaint, today_wib());
            assert_eq!(
                (r.opd.as_str(), r.rule_id.as_str()),
                (expected.opd.as_str(), expected.rule_id.as_str())
            );
        }
        if r.opd != "ADMIN" {
            routed_elsewhere += 1;
        }
    }
    assert!(
        routed_elsewhere > 250,
        "the shipped rules route most complaints: {routed_elsewhere}"
    );

    // An edit that sends everything to triage: complaints already routed stay where they are.
    let rules = dir.join("rules.toml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let everything_to_admin = Mappings::from_sources(
        vec![
            sp4n::mapping::SourceFile {
                path: dir.join("opd.toml"),
                text: std::fs::read_to_string(dir.join("opd.toml")).unwrap(),
            },
            sp4n::mapping::SourceFile {
                path: rules.clone(),
                text: String::new(),
            },
        ],
        None,
    )
    .unwrap()
    .0;
    assert_ne!(everything_to_admin.revision(), mappings.revision());
    drop(text);
    env.sim.advance(chrono::Duration::days(3));
    let again = sp4n::pull::pull(
        &env.store,
        &env.client,
        Arc::new(MappingRouter(Arc::new(everything_to_admin))),
        &opts(Mode::Pull),
    )
    .await
    .unwrap();
    assert!(again.changed + again.new > 0, "the world moved on");
    for s in env.store.list_complaints(&Default::default()).unwrap() {
        let before = stored.iter().find(|o| o.tracking_id() == s.tracking_id());
        if let Some(before) = before
            && s.complaint.unit == before.complaint.unit
        {
            assert_eq!(
                s.routing,
                before.routing,
                "routing is sticky for {}",
                s.tracking_id()
            );
        }
    }
}

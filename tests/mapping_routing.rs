//! Routing semantics with small rule sets: topic descendants, whole-word keywords, case
//! and accents, location prefixes and the kapanewon target, priority and file order,
//! validity dates, fallback; explanations, previews, reloading, and the online check.

mod support;
use support::mapping as mapping_support;

use chrono::NaiveDate;
use mapping_support::*;
use sp4n::diag::render_all;
use sp4n::mapping::{MappingState, Mappings, ReloadOutcome, TRIAGE, preview, render_preview};
use sp4n::model::{Topic, Unit};

fn load(dir: &Dir) -> Mappings {
    match Mappings::load(dir.path()) {
        Ok((m, _)) => m,
        Err(e) => panic!("{}", render_all(&e)),
    }
}

const RULES: &str = r#"
[[rule]]
id = "pu"
description = "Pekerjaan umum"
target = "DPUPKP"
priority = 10
topics = ["4"]

[[rule]]
id = "jalan"
description = "Kata jalan"
target = "DPUPKP"
priority = 20
keywords_any = ["jalan"]

[[rule]]
id = "lampu"
description = "Lampu jalan"
target = "DISHUB"
priority = 30
keywords_any = ["lampu jalan", "pju"]

[[rule]]
id = "kesehatan-judul"
description = "Judul menyebut puskesmas"
target = "DINKES"
priority = 30
title_any = ["puskesmas"]

[[rule]]
id = "dana-desa"
description = "Dana desa ke kapanewon"
target = "kapanewon"
priority = 40
keywords_all = ["dana", "desa"]

[[rule]]
id = "temon-pju"
description = "PJU Temon (same priority as lampu, later: loses ties)"
target = "KAP-TEMON"
priority = 30
keywords_any = ["pju"]
locations = ["34.01.01"]

[[rule]]
id = "kalurahan-glagah"
description = "Satu kalurahan"
target = "KAP-TEMON"
priority = 50
locations = ["34.01.01.2004"]
channels = ["sms1708"]
"#;

fn dir() -> Dir {
    Dir::new(&[("opd.toml", OPD), ("rules.toml", RULES)])
}

#[test]
fn topic_matches_its_descendants_only() {
    let m = load(&dir());
    let r = |t: &str| m.route(&with_topic(complaint(1, "Aduan", "isi"), t), day());
    assert_eq!(r("41").rule_id, "pu");
    assert_eq!(r("43").opd, "DPUPKP");
    assert_eq!(r("4").rule_id, "pu");
    assert_eq!(r("2").opd, TRIAGE);
    assert_eq!(r("2").rule_id, "fallback");
    assert_eq!(r("999").opd, TRIAGE);
}

#[test]
fn keywords_match_whole_words_case_and_accent_insensitively() {
    let m = load(&dir());
    let r = |judul: &str, isi: &str| m.route(&complaint(1, judul, isi), day()).rule_id;
    assert_eq!(r("Aduan", "JALAN di depan rumah"), "jalan");
    assert_eq!(r("Aduan", "jálan di depan rumah"), "jalan");
    assert_eq!(r("Aduan", "jalanan licin"), "fallback");
    assert_eq!(r("Aduan", "proyek sedang berjalan"), "fallback");
    assert_eq!(r("Lampu  Jalan", "mati"), "lampu");
    assert_eq!(r("Aduan", "lampu-jalan mati"), "lampu");
    assert_eq!(r("Aduan", "lampu di jalan mati"), "jalan");
    // title_any looks at the title only.
    assert_eq!(r("Puskesmas", "antre"), "kesehatan-judul");
    assert_eq!(r("Antre", "di puskesmas"), "fallback");
    // A phrase does not span the title and the text.
    assert_eq!(r("Lampu", "jalan"), "jalan");
}

#[test]
fn kapanewon_target_follows_the_location() {
    let m = load(&dir());
    let c = complaint(1, "Dana desa", "penggunaan dana tidak jelas, desa kami");
    assert_eq!(
        m.route(&with_location(c.clone(), "34.01.01.2003"), day())
            .opd,
        "KAP-TEMON"
    );
    assert_eq!(
        m.route(&with_location(c.clone(), "34.01.02.1001"), day())
            .opd,
        "KAP-WATES"
    );
    // No location, or a kapanewon without an entry: the rule is skipped.
    assert_eq!(m.route(&c, day()).opd, TRIAGE);
    assert_eq!(
        m.route(&with_location(c, "34.01.05.2001"), day()).opd,
        TRIAGE
    );
}

#[test]
fn location_prefixes_and_channels() {
    let m = load(&dir());
    let mut c = with_location(complaint(1, "Aduan", "isi"), "34.01.01.2004");
    c.kanal = Some("SMS1708".into());
    assert_eq!(m.route(&c, day()).rule_id, "kalurahan-glagah");
    c.kanal = Some("web".into());
    assert_eq!(m.route(&c, day()).rule_id, "fallback");
    c.kanal = Some("sms1708".into());
    c.lokasi.as_mut().unwrap().kode = "34.01.01.2005".into();
    assert_eq!(m.route(&c, day()).rule_id, "fallback");
}

#[test]
fn highest_priority_wins_and_ties_go_to_the_earlier_rule() {
    let m = load(&dir());
    // "pju" in Temon: lampu (30) and temon-pju (30) both match; lampu comes first.
    let c = with_location(complaint(1, "PJU mati", "jalan gelap"), "34.01.01.2001");
    assert_eq!(m.route(&c, day()).rule_id, "lampu");
    // dana-desa (40) beats lampu (30) and jalan (20).
    let c = with_location(complaint(1, "PJU dana desa", "jalan"), "34.01.01.2001");
    assert_eq!(m.route(&c, day()).rule_id, "dana-desa");
}

#[test]
fn rules_dir_files_follow_rules_toml_in_name_order() {
    let d = Dir::new(&[
        ("opd.toml", OPD),
        (
            "rules/b.toml",
            "[[rule]]\nid = \"b\"\ndescription = \"b\"\ntarget = \"DINKES\"\npriority = 1\nkeywords_any = [\"x\"]\n",
        ),
        (
            "rules/a.toml",
            "[[rule]]\nid = \"a\"\ndescription = \"a\"\ntarget = \"DISHUB\"\npriority = 1\nkeywords_any = [\"x\"]\n",
        ),
    ]);
    let m = load(&d);
    assert_eq!(m.route(&complaint(1, "x", ""), day()).rule_id, "a");
}

#[test]
fn a_target_outside_its_validity_is_skipped_and_units_follow_dates() {
    let opd = OPD.replace(
        "name = \"Dinas Perhubungan\"\n",
        "name = \"Dinas Perhubungan\"\nvalid_to = 2026-06-30\n",
    ) + "\n[[opd]]\ncode = \"DISHUB\"\nname = \"Dinas Perhubungan (baru)\"\nunit_id = \"2450\"\nvalid_from = 2026-12-01\n";
    let d = Dir::new(&[("opd.toml", &opd), ("rules.toml", RULES)]);
    let m = load(&d);
    let c = complaint(1, "PJU", "mati");
    let june = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    assert_eq!(m.route(&c, june).opd, "DISHUB");
    assert_eq!(
        m.route(&c, day()).opd,
        TRIAGE,
        "no DISHUB entry on 21 November"
    );
    assert_eq!(m.route(&c, dec).opd, "DISHUB");
    assert_eq!(m.opd_by_unit("2419", june).unwrap().code, "DISHUB");
    assert!(m.opd_by_unit("2419", dec).is_none());
    assert_eq!(m.opd_by_unit("2450", dec).unwrap().code, "DISHUB");
    assert_eq!(m.opd("DISHUB").unwrap().name, "Dinas Perhubungan (baru)");
    let e = m.explain(&c, day());
    assert!(
        e.to_string()
            .contains("target OPD DISHUB is not valid on 2026-11-21"),
        "{e}"
    );
}

#[test]
fn explain_names_the_rule_what_held_and_what_failed_before_it() {
    let m = load(&dir());
    let c = with_location(
        with_topic(complaint(4242, "Lampu jalan mati", "sudah seminggu"), "43"),
        "34.01.02.2006",
    );
    let e = m.explain(&c, day());
    assert_eq!(e.route, m.route(&c, day()));
    let text = e.to_string().replace(m.revision(), "<rev>");
    insta::assert_snapshot!(text);
    let none = m.explain(&complaint(7, "Tolong", "bingung"), day());
    assert!(none.matched.is_none());
    assert_eq!(none.rejected.len(), 7);
    insta::assert_snapshot!(
        "explain_fallback",
        none.to_string().replace(m.revision(), "<rev>")
    );
}

#[test]
fn preview_lists_the_complaints_that_would_move() {
    let d = dir();
    let old = load(&d);
    let edited = RULES.replace(
        "target = \"DISHUB\"\npriority = 30\nkeywords_any = [\"lampu jalan\", \"pju\"]",
        "target = \"DPUPKP\"\npriority = 30\nkeywords_any = [\"lampu jalan\", \"pju\"]",
    );
    assert_ne!(edited, RULES);
    d.write("rules.toml", &edited);
    let new = load(&d);
    assert_ne!(old.revision(), new.revision());
    let complaints = vec![
        complaint(1, "Lampu jalan mati", ""),
        complaint(2, "Jalan rusak", ""),
        complaint(3, "PJU padam", ""),
        complaint(4, "Sampah", ""),
    ];
    let moves = preview(&old, &new, &complaints, day());
    let ids: Vec<u64> = moves.iter().map(|m| m.tracking_id).collect();
    assert_eq!(ids, vec![1, 3]);
    insta::assert_snapshot!(render_preview(&moves));
    assert!(preview(&old, &old, &complaints, day()).is_empty());
}

#[test]
fn an_invalid_edit_keeps_the_last_good_revision() {
    let d = dir();
    let mut state = MappingState::new();
    let first = match state.reload_if_changed(d.path()) {
        ReloadOutcome::Loaded { revision, .. } => revision,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        state.reload_if_changed(d.path()),
        ReloadOutcome::Unchanged
    ));
    d.write(
        "rules.toml",
        &RULES.replace("target = \"DINKES\"", "target = \"DINKESS\""),
    );
    match state.reload_if_changed(d.path()) {
        ReloadOutcome::Rejected { errors, kept } => {
            assert_eq!(kept.as_deref(), Some(first.as_str()));
            assert!(render_all(&errors).contains("unknown OPD code 'DINKESS'"));
        }
        other => panic!("{other:?}"),
    }
    // Still routing with the first revision; the rejection stays visible for reports.
    let current = state.current().unwrap();
    assert_eq!(current.revision(), first);
    assert_eq!(current.route(&complaint(1, "PJU", ""), day()).opd, "DISHUB");
    assert!(state.pending_errors().is_some());
    assert!(matches!(
        state.reload_if_changed(d.path()),
        ReloadOutcome::Unchanged
    ));
    // Fixing the file takes effect at the next reload.
    d.write(
        "rules.toml",
        &RULES.replace("\"pju\"]", "\"pju\", \"lpju\"]"),
    );
    match state.reload_if_changed(d.path()) {
        ReloadOutcome::Loaded { revision, .. } => assert_ne!(revision, first),
        other => panic!("{other:?}"),
    }
    assert!(state.pending_errors().is_none());
    assert_eq!(
        state
            .current()
            .unwrap()
            .route(&complaint(1, "LPJU", ""), day())
            .opd,
        "DISHUB"
    );
}

#[test]
fn a_missing_file_is_rejected_and_nothing_is_lost() {
    let d = dir();
    let mut state = MappingState::new();
    assert!(matches!(
        state.reload_if_changed(d.path()),
        ReloadOutcome::Loaded { .. }
    ));
    std::fs::remove_file(d.path().join("opd.toml")).unwrap();
    match state.reload_if_changed(d.path()) {
        ReloadOutcome::Rejected { errors, kept } => {
            assert!(kept.is_some());
            assert!(render_all(&errors).contains("cannot read the file"));
        }
        other => panic!("{other:?}"),
    }
    assert!(state.current().is_some());
}

#[test]
fn paused_opd_still_receives_complaints() {
    let opd = OPD.replace(
        "name = \"Dinas Perhubungan\"\n",
        "name = \"Dinas Perhubungan\"\npaused = true\n",
    );
    let d = Dir::new(&[("opd.toml", &opd), ("rules.toml", RULES)]);
    let (m, warnings) = Mappings::load(d.path()).unwrap();
    assert!(render_all(&warnings).contains("OPD 'DISHUB' is paused"));
    let r = m.route(&complaint(1, "PJU", ""), day());
    assert_eq!(r.opd, "DISHUB");
    assert!(m.opd(&r.opd).unwrap().paused);
}

#[test]
fn online_check_reports_unknown_and_inactive_units_and_unreached_topics() {
    let m = load(&dir());
    let topics = vec![
        Topic {
            id: "4".into(),
            parent: "0".into(),
            name: "Pekerjaan Umum".into(),
        },
        Topic {
            id: "41".into(),
            parent: "4".into(),
            name: "Jalan".into(),
        },
        Topic {
            id: "2".into(),
            parent: "0".into(),
            name: "Kesehatan".into(),
        },
    ];
    let unit = |id: &str, active: bool| Unit {
        id: id.into(),
        name: format!("Unit {id}"),
        active,
    };
    let units = vec![
        unit("2405", true),
        unit("2406", true),
        unit("2419", false),
        unit("2431", true),
    ];
    let diags = m.check_online_on(&topics, &units, day());
    let text = render_all(&diags);
    assert!(
        text.contains("unit_id 2419 of OPD 'DISHUB' is inactive upstream"),
        "{text}"
    );
    assert!(
        text.contains("unit_id 2432 of OPD 'KAP-WATES' is not a unit"),
        "{text}"
    );
    assert!(text.contains("upstream topic 2 (Kesehatan)"), "{text}");
    assert!(!text.contains("upstream topic 41"), "{text}");
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 2);
}

#[test]
fn tags_klasifikasi_and_exclusions() {
    let rules = r#"
[[rule]]
id = "info"
description = "Permintaan informasi"
target = "DINKES"
priority = 5
klasifikasi = ["permintaan_informasi"]

[[rule]]
id = "tag"
description = "Tag jalan"
target = "DPUPKP"
priority = 6
tags = ["Jalan Rusak"]

[[rule]]
id = "lampu-bukan-rumah"
description = "Lampu, kecuali listrik rumah"
target = "DISHUB"
priority = 7
keywords_any = ["lampu"]
keywords_none = ["listrik rumah"]
"#;
    let d = Dir::new(&[("opd.toml", OPD), ("rules.toml", rules)]);
    let m = load(&d);
    let mut c = complaint(1, "Tanya", "jadwal");
    assert_eq!(m.route(&c, day()).rule_id, "fallback");
    c.klasifikasi = Some("Permintaan_Informasi".into());
    assert_eq!(m.route(&c, day()).rule_id, "info");
    c.tags = vec!["JALAN  rusak".into()];
    assert_eq!(m.route(&c, day()).rule_id, "tag");
    c.isi = "lampu mati".into();
    assert_eq!(m.route(&c, day()).rule_id, "lampu-bukan-rumah");
    c.isi = "lampu mati, listrik rumah juga".into();
    assert_eq!(m.route(&c, day()).rule_id, "tag");
    let e = m.explain(&c, day()).to_string();
    assert!(e.contains("lampu-bukan-rumah (priority 7, to DISHUB): text contains the excluded \"listrik rumah\""), "{e}");
}

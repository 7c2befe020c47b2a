//! Issue 15: authority first (`kewenangan.toml`), doubt goes to a person, history helps.

mod support;
use support::mapping as mapping_support;

use mapping_support::{day, load_cases, shipped_dir};
use sp4n::mapping::Mappings;

fn shipped() -> Mappings {
    Mappings::load(&shipped_dir())
        .expect("shipped mappings load")
        .0
}

/// The tuning cases written for issue 15 (`fixtures/routing/tuning.toml`), scored like
/// `labelled.toml`.
#[test]
fn tuning_cases_route_well() {
    let m = shipped();
    let s = mapping_support::score(&m, &load_cases("tuning.toml"), day());
    println!("tuning routing: {s}");
    for miss in &s.misses {
        println!("{miss}");
    }
    assert!(s.overall.percent() >= 85.0, "{s}");
    assert_eq!(s.outside_to_admin.right, s.outside_to_admin.of, "{s}");
}

/// History as examples, measured separately (issue 15, item 3): every case of
/// `labelled.toml` and `tuning.toml` is held out in turn and the others serve as the
/// regency's history; as if no rule matched, how often do similar cases decide, and how
/// often rightly? Printed; asserted only loosely (a decision must be right far more often
/// than not).
#[test]
fn history_decides_when_rules_are_silent_leave_one_out() {
    use sp4n::mapping::history::History;
    let mut cases = load_cases("labelled.toml");
    cases.extend(load_cases("tuning.toml"));
    let complaints: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, k)| k.complaint(i as u64 + 1))
        .collect();
    let h = History::new(
        complaints
            .iter()
            .zip(&cases)
            .filter(|(_, k)| k.expected != sp4n::mapping::TRIAGE)
            .map(|(c, k)| (c, k.expected.clone())),
    );
    let (mut decided, mut right, mut shown_right) = (0, 0, 0);
    for (c, k) in complaints.iter().zip(&cases) {
        // `similar` and `decide` skip the example with the complaint's own tracking id.
        if h.similar(c, 3).iter().any(|s| k.accepts(&s.opd)) {
            shown_right += 1;
        }
        if let Some(opd) = h.decide(c) {
            decided += 1;
            right += usize::from(k.accepts(&opd));
        }
    }
    println!(
        "history leave-one-out over {} cases: decides {decided} ({:.1}%), right {right}/{decided} ({:.1}%); the right OPD among the 3 shown for {shown_right} ({:.1}%)",
        cases.len(),
        100.0 * decided as f64 / cases.len() as f64,
        100.0 * right as f64 / decided.max(1) as f64,
        100.0 * shown_right as f64 / cases.len() as f64,
    );
    assert!(decided > 0);
    assert!(
        right * 10 >= decided * 8,
        "history decides wrongly too often"
    );
}

// --- authority first --------------------------------------------------------------

use mapping_support::{OPD, complaint, with_topic};
use sp4n::diag::render_all;
use sp4n::mapping::history::History;
use sp4n::mapping::{DOUBT_RULE, HISTORY_RULE, SourceFile, TRIAGE};
use std::path::PathBuf;

fn sources(rules: &str, kewenangan: &str) -> Vec<SourceFile> {
    vec![
        SourceFile {
            path: PathBuf::from("mappings/opd.toml"),
            text: OPD.to_string(),
        },
        SourceFile {
            path: PathBuf::from("mappings/rules.toml"),
            text: rules.to_string(),
        },
        SourceFile {
            path: PathBuf::from("mappings/kewenangan.toml"),
            text: kewenangan.to_string(),
        },
    ]
}

const RULES: &str = r#"
[[rule]]
id = "jalan"
description = "Jalan"
target = "DPUPKP"
priority = 600
keywords_any = ["jalan rusak", "berlubang", "aspal"]

[[rule]]
id = "puskesmas"
description = "Puskesmas"
target = "DINKES"
priority = 650
keywords_any = ["puskesmas", "obat"]

[[rule]]
id = "topik-jalan"
description = "Topik jalan"
target = "DPUPKP"
priority = 300
topics = ["Pekerjaan Umum dan Penataan Ruang/Jalan dan Jembatan"]

[[rule]]
id = "lampu"
description = "Lampu"
target = "DISHUB"
priority = 610
keywords_any = ["lampu"]
"#;

const KEWENANGAN: &str = r#"
[[urusan]]
id = "pln"
pemilik = "PLN UP3 Yogyakarta"
tingkat = "bumn"
sumber = "uji"
keyakinan = "tinggi"
keywords_any = ["listrik padam", "pln"]
keywords_none = ["lampu jalan"]

[[urusan]]
id = "jalan-nasional"
pemilik = "BBPJN"
tingkat = "pusat"
saran = "Bukan Wewenang: jalan nasional"
keywords_any = ["jalan nasional"]
context_any = ["rusak", "berlubang"]
"#;

fn small() -> sp4n::mapping::Mappings {
    match sp4n::mapping::Mappings::from_sources(sources(RULES, KEWENANGAN), None) {
        Ok((m, _)) => m,
        Err(d) => panic!("{}", render_all(&d)),
    }
}

#[test]
fn a_matter_outside_authority_goes_to_admin_with_the_suggested_action() {
    let m = small();
    let c = complaint(
        1,
        "Listrik padam terus",
        "sudah 3 hari, obat di kulkas rusak",
    );
    let r = m.route(&c, day());
    assert_eq!(
        (r.opd.as_str(), r.rule_id.as_str()),
        (TRIAGE, "kewenangan:pln")
    );
    let e = m.explain(&c, day());
    assert_eq!(
        e.suggestion.as_deref(),
        Some("Bukan Wewenang: milik PLN UP3 Yogyakarta")
    );
    assert!(
        e.to_string()
            .contains("Suggested action: Bukan Wewenang: milik PLN UP3 Yogyakarta")
    );
    assert_eq!(m.advise(&c, day()).suggestion, e.suggestion);
    // The owner's signal needs its context: a national road's street light is not a
    // road-damage matter.
    let road = complaint(2, "Jalan nasional berlubang", "di Temon");
    let e = m.explain(&road, day());
    assert_eq!(e.route.rule_id, "kewenangan:jalan-nasional");
    assert_eq!(
        e.suggestion.as_deref(),
        Some("Bukan Wewenang: jalan nasional")
    );
    let lamp = complaint(3, "Lampu di jalan nasional", "mati");
    assert_eq!(m.route(&lamp, day()).opd, "DISHUB");
    // keywords_none: a street light is not PLN's.
    let pju = complaint(4, "lampu jalan mati", "kata warga pln tidak mau");
    assert_eq!(m.route(&pju, day()).opd, "DISHUB");
    // The shipped file: household electricity, a senior high school.
    let shipped = shipped();
    for (t, x, rule) in [
        (
            "listrik rumah padam",
            "pln kok diam",
            "kewenangan:pln-listrik-rumah",
        ),
        (
            "PPDB SMA negeri",
            "zonasi tidak adil",
            "kewenangan:sma-smk-slb",
        ),
        (
            "Air PDAM keruh",
            "tirta binangun",
            "kewenangan:pdam-tirta-binangun",
        ),
    ] {
        let e = shipped.explain(&complaint(5, t, x), day());
        assert_eq!(e.route.opd, TRIAGE, "{t}");
        assert_eq!(e.route.rule_id, rule, "{t}");
        assert!(
            e.suggestion
                .as_deref()
                .unwrap_or("")
                .starts_with("Bukan Wewenang"),
            "{t}"
        );
    }
}

#[test]
fn a_close_call_goes_to_triage_with_the_candidates_and_their_evidence() {
    let m = small();
    // One weak word of the text (DINKES) against the topic (DPUPKP).
    let c = with_topic(
        complaint(
            1,
            "Tolong diperhatikan",
            "dekat puskesmas sudah lama begini",
        ),
        "41",
    );
    let r = m.route(&c, day());
    assert_eq!((r.opd.as_str(), r.rule_id.as_str()), (TRIAGE, DOUBT_RULE));
    let e = m.explain(&c, day());
    let opds: Vec<&str> = e.candidates.iter().map(|c| c.opd.as_str()).collect();
    assert_eq!(opds, vec!["DPUPKP", "DINKES"]);
    assert!(e.candidates[1].evidence[0].contains("puskesmas"), "{e}");
    assert!(e.candidates[0].evidence[0].contains("topic 41"), "{e}");
    assert!(e.to_string().contains("too close to call"), "{e}");
    // The rest of the text points elsewhere, clearly more than the winner's word.
    let c = complaint(
        2,
        "Jalan rusak berlubang",
        "aspal hancur, lewat depan puskesmas",
    );
    assert_eq!(
        m.route(&c, day()).opd,
        "DPUPKP",
        "title words overwhelm one place word"
    );
    let c = complaint(
        3,
        "Obat dan jalan rusak",
        "berlubang, aspal mengelupas di desa",
    );
    assert_eq!(m.route(&c, day()).rule_id, DOUBT_RULE);
    // Clear evidence routes as before.
    let c = complaint(4, "Obat di puskesmas habis", "sudah seminggu");
    assert_eq!(m.route(&c, day()).opd, "DINKES");
}

#[test]
fn similar_past_complaints_are_shown_and_decide_when_rules_are_silent() {
    let past = [
        complaint(
            101,
            "Anjing liar berkeliaran",
            "anjing liar menggigit anak di dusun",
        ),
        complaint(
            102,
            "anjing liar lagi",
            "kawanan anjing liar resahkan warga",
        ),
        complaint(103, "Jalan berlubang", "jalan berlubang besar"),
        complaint(104, "KTP belum jadi", "rekam ktp sudah lama belum dicetak"),
        complaint(105, "Sampah menumpuk", "sampah di tps tidak diangkut"),
    ];
    let h = History::new(
        past.iter()
            .zip(["DINKES", "DINKES", "DPUPKP", "DPUPKP", "DISHUB"])
            .map(|(c, o)| (c, o.to_string())),
    );
    let m = small().with_history(h);
    let c = complaint(
        1,
        "banyak anjing liar",
        "anjing liar menggonggong tiap malam",
    );
    let e = m.explain(&c, day());
    assert_eq!(e.similar[0].opd, "DINKES");
    assert!(e.similar[0].shared.contains(&"anjing".to_string()));
    assert!(
        e.to_string()
            .contains("Similar complaints disposed before:"),
        "{e}"
    );
    // No rule matches: the agreeing examples decide.
    let r = m.route(&c, day());
    assert_eq!(
        (r.opd.as_str(), r.rule_id.as_str()),
        ("DINKES", HISTORY_RULE)
    );
    assert_eq!(e.route, r);
    // A rule that matches is never overruled by history; it is only shown.
    let c = complaint(2, "anjing liar di puskesmas", "obat habis");
    assert_eq!(m.route(&c, day()).opd, "DINKES");
    assert_eq!(m.route(&c, day()).rule_id, "puskesmas");
}

#[test]
fn kewenangan_errors_point_at_file_line_and_column() {
    let bad = r#"
[[urusan]]
id = "pln"
pemilik = ""
tingkat = "kabupaten"
keyakinan = "pasti"
keywords_any = ["a*b"]

[[urusan]]
id = "pln"
pemilik = "PLN"
tingkat = "bumn"
keywords_any = []
"#;
    let errs = match sp4n::mapping::Mappings::from_sources(sources(RULES, bad), None) {
        Ok(_) => panic!("accepted"),
        Err(d) => render_all(&d),
    };
    for (what, at) in [
        ("pemilik is empty", "mappings/kewenangan.toml:4:11"),
        (
            "unknown tingkat 'kabupaten'",
            "mappings/kewenangan.toml:5:11",
        ),
        ("unknown keyakinan 'pasti'", "mappings/kewenangan.toml:6:13"),
        ("unusable keyword", "mappings/kewenangan.toml:7:17"),
        (
            "duplicate urusan id 'pln' (first at line 3)",
            "mappings/kewenangan.toml:10:6",
        ),
        (
            "urusan 'pln' has no keywords_any",
            "mappings/kewenangan.toml:10:6",
        ),
    ] {
        assert!(errs.contains(what), "missing {what}:\n{errs}");
        assert!(errs.contains(at), "missing {at}:\n{errs}");
    }
    // Unknown keys are errors too (a misspelt key never silently turns a signal off).
    let typo = "[[urusan]]\nid = \"x\"\npemilik = \"X\"\ntingkat = \"bumn\"\nkeywords_any = [\"x\"]\nkeyword_none = [\"y\"]\n";
    let errs = match sp4n::mapping::Mappings::from_sources(sources(RULES, typo), None) {
        Ok(_) => panic!("accepted"),
        Err(d) => render_all(&d),
    };
    assert!(errs.contains("mappings/kewenangan.toml:6:1"), "{errs}");
    assert!(errs.contains("keyword_none"), "{errs}");
}

/// How often a month goes to the triage desk (issue 15 goal: at most 15%), measured on
/// the simulator's world: 1,000 complaints as the simulator writes them (its citizen
/// texts, topics and places), routed with the shipped files. Printed with the reasons.
#[test]
fn triage_share_of_a_simulated_month() {
    use chrono::TimeZone;
    use sp4n::sim::world::World;
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let w = World::new(15, 1000, start, 0);
    let truth = w.ground_truth(start);
    let m = shipped();
    let (mut n, mut triage, mut doubt, mut authority, mut fallback) = (0, 0, 0, 0, 0);
    for c in truth.complaints.iter().chain(&truth.left_stream) {
        n += 1;
        let r = m.route(c, day());
        if r.opd == TRIAGE {
            triage += 1;
            match r.rule_id.as_str() {
                DOUBT_RULE => {
                    doubt += 1;
                    if std::env::var("SHOW_DOUBT").is_ok() && doubt <= 12 {
                        let e = m.explain(c, day());
                        println!("-- {} | {}", c.judul, c.isi);
                        for k in &e.candidates {
                            println!("   {} ({}): {}", k.opd, k.score, k.evidence.join("; "));
                        }
                    }
                }
                "fallback" => fallback += 1,
                x if x.starts_with("kewenangan:") => authority += 1,
                _ => {}
            }
        }
    }
    let pct = 100.0 * triage as f64 / n as f64;
    println!(
        "simulated month: {triage}/{n} to triage ({pct:.1}%): {doubt} in doubt, {authority} outside authority, {fallback} by no rule, {} by other ADMIN rules",
        triage - doubt - authority - fallback
    );
    assert!(n > 0);
    assert!(pct <= 15.0, "triage is becoming the default: {pct:.1}%");
}

//! The shipped mapping files: they load without errors or warnings, route the labelled
//! real-style complaints of `fixtures/routing/labelled.toml` well, and route every
//! complaint to exactly one OPD, deterministically.

mod mapping_support;

use mapping_support::*;
use proptest::prelude::*;
use sp4n::diag::render_all;
use sp4n::mapping::{Mappings, TRIAGE};

fn shipped() -> Mappings {
    match Mappings::load(&shipped_dir()) {
        Ok((m, _)) => m,
        Err(e) => panic!("shipped mappings invalid:\n{}", render_all(&e)),
    }
}

#[test]
fn shipped_files_load_without_errors_or_warnings() {
    let (m, warnings) = Mappings::load(&shipped_dir())
        .unwrap_or_else(|e| panic!("shipped mappings invalid:\n{}", render_all(&e)));
    assert!(warnings.is_empty(), "warnings:\n{}", render_all(&warnings));
    assert_eq!(m.opds().len(), 43, "30 OPDs, 12 Kapanewon and ADMIN");
    assert!(m.opd(TRIAGE).is_some_and(|o| o.unit_id.is_none()));
    // Unit ids follow the OPD list: 2401 Sekretariat Daerah .. 2442 Kapanewon Samigaluh.
    let on = day();
    assert_eq!(m.opd_by_unit("2401", on).unwrap().code, "SETDA");
    assert_eq!(m.opd_by_unit("2406", on).unwrap().code, "DPUPKP");
    assert_eq!(m.opd_by_unit("2429", on).unwrap().code, "RSUD-WATES");
    assert_eq!(m.opd_by_unit("2430", on).unwrap().code, "RSUD-NAS");
    assert_eq!(m.opd_by_unit("2441", on).unwrap().code, "KAP-KALIBAWANG");
    assert_eq!(m.opd_by_unit("2442", on).unwrap().code, "KAP-SAMIGALUH");
    assert!(m.opd_by_unit("2443", on).is_none());
    let mut units: Vec<u32> = m
        .opds()
        .iter()
        .filter_map(|o| o.unit_id.as_ref()?.parse().ok())
        .collect();
    units.sort();
    assert_eq!(units, (2401..=2442).collect::<Vec<_>>());
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    title: String,
    text: String,
    topic: Option<String>,
    location: Option<String>,
    expected: String,
}

#[test]
fn shipped_rules_route_labelled_complaints() {
    let m = shipped();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/routing/labelled.toml");
    let cases: Labelled = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.case.len() >= 60);
    let mut misses = Vec::new();
    for (i, k) in cases.case.iter().enumerate() {
        assert!(
            m.opd(&k.expected).is_some(),
            "case {i}: unknown OPD {}",
            k.expected
        );
        let mut c = complaint(i as u64 + 1, &k.title, &k.text);
        if let Some(t) = &k.topic {
            c = with_topic(c, t);
        }
        if let Some(l) = &k.location {
            c = with_location(c, l);
        }
        let r = m.route(&c, day());
        if r.opd != k.expected {
            misses.push(format!(
                "  \"{}\": expected {}, got {} by rule {}",
                k.title, k.expected, r.opd, r.rule_id
            ));
        }
    }
    let right = cases.case.len() - misses.len();
    println!(
        "labelled routing: {right}/{} right ({:.1}%)",
        cases.case.len(),
        100.0 * right as f64 / cases.case.len() as f64
    );
    for miss in &misses {
        println!("{miss}");
    }
    assert!(
        right * 10 >= cases.case.len() * 9,
        "fewer than 90% right:\n{}",
        misses.join("\n")
    );
}

fn arb_complaint() -> impl Strategy<Value = sp4n::model::Complaint> {
    let words = prop::sample::select(vec![
        "jalan",
        "jalanan",
        "berlubang",
        "rusak",
        "lampu",
        "PJU",
        "mati",
        "sampah",
        "TPS",
        "KTP-el",
        "akta",
        "puskesmas",
        "RSUD",
        "Wates",
        "sekolah",
        "guru",
        "PPDB",
        "izin",
        "pasar",
        "harga",
        "bansos",
        "PKH",
        "dana",
        "desa",
        "lurah",
        "longsor",
        "banjir",
        "saluran",
        "mampet",
        "miras",
        "PKL",
        "parkir",
        "pupuk",
        "nelayan",
        "pantai",
        "Glagah",
        "wifi",
        "PNS",
        "pajak",
        "PBB",
        "Kafé",
        "ÜMKM",
        "berjalan",
        "—",
        "!!",
        "2026",
        "di",
        "yang",
        "tidak",
    ]);
    let text = prop::collection::vec(words, 0..30).prop_map(|w| w.join(" "));
    let topic = prop::option::of(prop::sample::select(vec![
        "1", "2", "3", "4", "41", "42", "43", "5", "6", "61", "7", "8", "9", "10", "11", "12",
        "13", "14", "15", "16", "17", "18", "19", "20", "99",
    ]));
    let location = prop::option::of((1u32..=13, prop::option::of(2001u32..2017)).prop_map(
        |(k, l)| match l {
            Some(l) => format!("34.01.{k:02}.{l}"),
            None => format!("34.01.{k:02}"),
        },
    ));
    (text.clone(), text, topic, location).prop_map(|(judul, isi, topic, location)| {
        let mut c = complaint(7, &judul, &isi);
        if let Some(t) = topic {
            c = with_topic(c, t);
        }
        if let Some(l) = location {
            c = with_location(c, &l);
        }
        c
    })
}

proptest! {
    #[test]
    fn every_complaint_gets_one_known_opd_deterministically(c in arb_complaint()) {
        let m = shipped();
        let a = m.route(&c, day());
        let b = m.route(&c, day());
        prop_assert_eq!(&a, &b);
        prop_assert!(m.opd(&a.opd).is_some(), "unknown OPD {}", a.opd);
        let e = m.explain(&c, day());
        prop_assert_eq!(&e.route, &a);
    }
}

#[test]
fn shipped_files_pass_the_online_check_against_the_modelled_world() {
    let m = shipped();
    let topics = sp4n::mapping::world::modelled_topics();
    let units: Vec<sp4n::model::Unit> = m
        .opds()
        .iter()
        .filter_map(|o| {
            Some(sp4n::model::Unit {
                id: o.unit_id.clone()?,
                name: o.name.clone(),
                active: true,
            })
        })
        .collect();
    assert_eq!(units.len(), 42);
    let diags = m.check_online_on(&topics, &units, day());
    assert!(diags.is_empty(), "{}", render_all(&diags));
}

//! Helpers shared by the mapping tests and `benches/routing.rs`: complaint builders, a
//! temporary mappings directory, and the scoring of the labelled routing sets
//! (`fixtures/routing/*.toml`).
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use sp4n::mapping::{FALLBACK_RULE, Mappings, TRIAGE};
use sp4n::model::{Complaint, Location, Status, TopicRef};
use std::fmt;
use std::path::{Path, PathBuf};

pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

pub fn complaint(id: u64, judul: &str, isi: &str) -> Complaint {
    Complaint {
        tracking_id: id,
        rahasia: false,
        anonim: false,
        judul: judul.to_string(),
        isi: isi.to_string(),
        klasifikasi: Some("pengaduan".to_string()),
        topik: None,
        tags: Vec::new(),
        kanal: Some("web".to_string()),
        lokasi: None,
        pelapor: None,
        status: Status::BelumDitindaklanjuti,
        unit: None,
        dibuat: None,
        diperbarui: Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap(),
        lampiran: Vec::new(),
        thread: Vec::new(),
    }
}

pub fn with_topic(mut c: Complaint, topic: &str) -> Complaint {
    c.topik = Some(TopicRef {
        id: topic.to_string(),
        name: String::new(),
    });
    c
}

pub fn with_location(mut c: Complaint, kode: &str) -> Complaint {
    c.lokasi = Some(Location {
        kode: kode.to_string(),
        name: String::new(),
    });
    c
}

/// The repository's shipped `mappings/` folder.
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

/// A temporary mappings folder with the given files.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new(files: &[(&str, &str)]) -> Dir {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir { tmp };
        for (name, text) in files {
            d.write(name, text);
        }
        d
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        let p = self.tmp.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
}

/// A small registry used by the semantic tests.
pub const OPD: &str = r#"[[opd]]
code = "ADMIN"
name = "Meja Triase"

[[opd]]
code = "DPUPKP"
name = "Dinas Pekerjaan Umum Perumahan dan Kawasan Permukiman"
unit_id = "2406"
aliases = ["Dinas PU"]

[[opd]]
code = "DINKES"
name = "Dinas Kesehatan"
unit_id = "2405"

[[opd]]
code = "DISHUB"
name = "Dinas Perhubungan"
unit_id = "2419"

[[opd]]
code = "KAP-TEMON"
name = "Kapanewon Temon"
unit_id = "2431"
aliases = ["Kecamatan Temon"]
wilayah = "34.01.01"

[[opd]]
code = "KAP-WATES"
name = "Kapanewon Wates"
unit_id = "2432"
wilayah = "34.01.02"
"#;

/// A file of labelled complaints (`fixtures/routing/labelled.toml`, `heldout.toml`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub case: Vec<LabelledCase>,
}

/// One labelled complaint and the OPD an experienced administrator would pick.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledCase {
    pub title: String,
    pub text: String,
    pub topic: Option<String>,
    pub location: Option<String>,
    pub expected: String,
    /// Other OPDs that are also acceptable.
    #[serde(default)]
    pub alternates: Vec<String>,
    /// Misleading keyword, wrong topic, two domains, or outside the regency's authority.
    #[serde(default)]
    pub hard: bool,
    /// The owner of a matter outside the regency's authority (expected is then ADMIN).
    pub outside: Option<String>,
}

impl LabelledCase {
    /// The complaint as the platform would deliver it (web channel, no tags).
    pub fn complaint(&self, id: u64) -> Complaint {
        let mut c = complaint(id, &self.title, &self.text);
        if let Some(t) = &self.topic {
            c = with_topic(c, t);
        }
        if let Some(l) = &self.location {
            c = with_location(c, l);
        }
        c
    }

    pub fn accepts(&self, opd: &str) -> bool {
        self.expected == opd || self.alternates.iter().any(|a| a == opd)
    }
}

/// The labelled cases of `fixtures/routing/<name>`.
pub fn load_cases(name: &str) -> Vec<LabelledCase> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/routing")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: CaseFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.case
}

/// `right` out of `of`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub right: usize,
    pub of: usize,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.of += 1;
        self.right += usize::from(right);
    }

    pub fn percent(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            100.0 * self.right as f64 / self.of as f64
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.of == 0 {
            write!(f, "0/0 (n/a)")
        } else {
            write!(f, "{}/{} ({:.1}%)", self.right, self.of, self.percent())
        }
    }
}

/// How the rules route a labelled set.
#[derive(Debug, Clone, Default)]
pub struct Score {
    /// Right OPD or an acceptable alternate, over all cases.
    pub overall: Tally,
    /// The same over the hard cases.
    pub hard: Tally,
    /// Matters outside the regency's authority that went to the triage desk (ADMIN).
    pub outside_to_admin: Tally,
    /// Cases routed to the triage desk (a rule targeting ADMIN, or no rule at all).
    pub triage: Tally,
    /// Of those, cases no rule matched (fallback).
    pub no_route: usize,
    /// One line per wrong case.
    pub misses: Vec<String>,
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "right OPD or alternate {}; hard cases {}; outside authority to ADMIN {}; \
             to triage {} ({} by no rule)",
            self.overall, self.hard, self.outside_to_admin, self.triage, self.no_route
        )
    }
}

/// Routes every case with `m` on day `on` and scores the result.
pub fn score(m: &Mappings, cases: &[LabelledCase], on: NaiveDate) -> Score {
    let mut s = Score::default();
    for (i, k) in cases.iter().enumerate() {
        let r = m.route(&k.complaint(i as u64 + 1), on);
        let right = k.accepts(&r.opd);
        s.overall.add(right);
        if k.hard {
            s.hard.add(right);
        }
        if k.outside.is_some() {
            s.outside_to_admin.add(r.opd == TRIAGE);
        }
        s.triage.add(r.opd == TRIAGE);
        if r.rule_id == FALLBACK_RULE {
            s.no_route += 1;
        }
        if !right {
            s.misses.push(format!(
                "  \"{}\": expected {}, got {} by rule {}",
                k.title, k.expected, r.opd, r.rule_id
            ));
        }
    }
    s
}

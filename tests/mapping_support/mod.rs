//! Helpers shared by the mapping tests: complaint builders and a temporary mappings
//! directory.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use sp4n::model::{Complaint, Location, Status, TopicRef};
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

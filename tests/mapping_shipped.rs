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

//! What an administrator sees for each kind of mistake in the mapping files: rendered
//! diagnostics (file, line, column, caret, hint), snapshotted in `tests/snapshots/`.

mod support;
use support::mapping as mapping_support;

use mapping_support::OPD;
use sp4n::diag::{Severity, render_all};
use sp4n::mapping::{Mappings, SourceFile};
use std::path::PathBuf;

fn sources(opd: &str, rules: &str) -> Vec<SourceFile> {
    vec![
        SourceFile {
            path: PathBuf::from("mappings/opd.toml"),
            text: opd.to_string(),
        },
        SourceFile {
            path: PathBuf::from("mappings/rules.toml"),
            text: rules.to_string(),
        },
    ]
}

/// Loads and returns the rendered errors; panics when the files are valid.
fn errors(opd: &str, rules: &str) -> String {
    match Mappings::from_sources(sources(opd, rules), None) {
        Ok(_) => panic!("expected errors"),
        Err(d) => {
            assert!(d.iter().any(|d| d.severity == Severity::Error));
            render_all(&d)
        }
    }
}

/// Loads valid files and returns the rendered warnings.
fn warnings(opd: &str, rules: &str) -> String {
    match Mappings::from_sources(sources(opd, rules), None) {
        Ok((_, w)) => render_all(&w),
        Err(d) => panic!("unexpected errors:\n{}", render_all(&d)),
    }
}

/// Rules that reach every OPD of the test registry, so no "unreached" warnings.
const REACH_ALL: &str = r#"
[[rule]]
id = "reach-kesehatan"
description = "Kesehatan"
target = "DINKES"
priority = 10
topics = ["2"]

[[rule]]
id = "reach-pju"
description = "PJU"
target = "DISHUB"
priority = 10
keywords_any = ["lampu jalan"]

[[rule]]
id = "reach-jalan"
description = "Jalan"
target = "DPUPKP"
priority = 10
keywords_any = ["jalan rusak"]

[[rule]]
id = "reach-kalurahan"
description = "Kalurahan"
target = "kapanewon"
priority = 10
topics = ["15"]
"#;

fn with_reach_all(rules: &str) -> String {
    format!("{rules}\n{REACH_ALL}")
}

#[test]
fn unknown_key_is_an_error() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "jalan"
description = "Jalan rusak"
target = "DPUPKP"
priority = 50
keyword_any = ["jalan rusak"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn unknown_opd_code_suggests_the_closest() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "jalan"
description = "Jalan rusak"
target = "DPUPKB"
priority = 50
keywords_any = ["jalan rusak"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn duplicate_rule_id() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "jalan"
description = "Jalan rusak"
target = "DPUPKP"
priority = 50
keywords_any = ["jalan rusak"]

[[rule]]
id = "jalan"
description = "Jembatan"
target = "DPUPKP"
priority = 40
keywords_any = ["jembatan"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn rule_without_conditions() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "semua-ke-pu"
description = "Semua ke PU"
target = "DPUPKP"
priority = 50
keywords_none = ["sampah"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn unknown_topic_id() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "jalan"
description = "Jalan"
target = "DPUPKP"
priority = 50
topics = ["4", "44"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn invalid_location_codes() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "temon"
description = "Temon"
target = "DPUPKP"
priority = 50
locations = ["34.01.13", "34.1.02", "34.01.02.2009", "34.01"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn unusable_keywords() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "jalan"
description = "Jalan"
target = "DPUPKP"
priority = 50
keywords_any = ["ja*lan", "ab*", "--"]
"#,
    );
    insta::assert_snapshot!(errors(OPD, &rules));
}

#[test]
fn alias_shared_by_two_opds() {
    let opd = OPD.replace(
        "name = \"Dinas Perhubungan\"",
        "name = \"Dinas Perhubungan\"\naliases = [\"Dinas PU\"]",
    );
    insta::assert_snapshot!(errors(&opd, &with_reach_all("")));
}

#[test]
fn overlapping_validity_of_one_code() {
    let opd = format!(
        "{OPD}\n[[opd]]\ncode = \"DINKES\"\nname = \"Dinas Kesehatan (baru)\"\nunit_id = \"2499\"\nvalid_from = 2026-01-01\n"
    );
    let opd = opd.replacen(
        "name = \"Dinas Kesehatan\"\n",
        "name = \"Dinas Kesehatan\"\nvalid_to = 2026-06-30\n",
        1,
    );
    insta::assert_snapshot!(errors(&opd, &with_reach_all("")));
}

#[test]
fn successive_validity_of_one_code_is_fine() {
    let opd = format!(
        "{OPD}\n[[opd]]\ncode = \"DINKES\"\nname = \"Dinas Kesehatan (baru)\"\nunit_id = \"2499\"\nvalid_from = 2026-07-01\n"
    );
    let opd = opd.replacen(
        "name = \"Dinas Kesehatan\"\n",
        "name = \"Dinas Kesehatan\"\nvalid_to = 2026-06-30\n",
        1,
    );
    assert_eq!(warnings(&opd, &with_reach_all("")), "");
}

#[test]
fn invalid_dates_and_wilayah() {
    let opd = OPD
        .replace(
            "name = \"Dinas Kesehatan\"\n",
            "name = \"Dinas Kesehatan\"\nvalid_from = \"1 Januari 2020\"\nvalid_to = 2019-12-31\n",
        )
        .replace(
            "name = \"Dinas Perhubungan\"\n",
            "name = \"Dinas Perhubungan\"\nvalid_from = 2021-01-01\nvalid_to = 2020-12-31\n",
        )
        .replace("wilayah = \"34.01.02\"", "wilayah = \"34.01.02.2001\"");
    insta::assert_snapshot!(errors(&opd, &with_reach_all("")));
}

#[test]
fn toml_syntax_error_points_at_the_line() {
    let rules = "[[rule]]\nid = \"jalan\"\ndescription = \"Jalan\ntarget = \"DPUPKP\"\n";
    insta::assert_snapshot!(errors(OPD, rules));
}

#[test]
fn missing_triage_desk() {
    let opd = OPD.replace("code = \"ADMIN\"", "code = \"TRIASE\"");
    insta::assert_snapshot!(errors(&opd, &with_reach_all("")));
}

#[test]
fn shadowed_rule_is_a_warning() {
    let rules = with_reach_all(
        r#"[[rule]]
id = "pu-umum"
description = "Semua pekerjaan umum"
target = "DPUPKP"
priority = 50
topics = ["4"]

[[rule]]
id = "pju-ke-dishub"
description = "PJU ke Dishub"
target = "DISHUB"
priority = 50
topics = ["43"]
keywords_any = ["lampu jalan"]
"#,
    );
    insta::assert_snapshot!(warnings(OPD, &rules));
}

#[test]
fn unreached_and_paused_opds_are_warnings() {
    let opd = OPD.replace(
        "name = \"Dinas Kesehatan\"\n",
        "name = \"Dinas Kesehatan\"\npaused = true\n",
    );
    let rules = r#"[[rule]]
id = "kesehatan"
description = "Kesehatan"
target = "DINKES"
priority = 10
topics = ["2"]
"#;
    insta::assert_snapshot!(warnings(&opd, rules));
}

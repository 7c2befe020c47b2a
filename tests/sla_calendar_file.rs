//! The shipped mappings/calendar.toml: every 2026 holiday and cuti bersama of the SKB,
//! by name, and nothing else; and how its errors read.

use chrono::{Datelike, NaiveDate};
use sp4n::sla::{Calendar, DayOffKind};
use std::path::Path;

fn shipped() -> Calendar {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml");
    let (cal, warnings) = Calendar::load(&path).unwrap_or_else(|d| {
        panic!("{}", sp4n::diag::render_all(&d));
    });
    assert!(warnings.is_empty());
    cal
}

#[test]
fn the_2026_days_off_are_exactly_those_of_the_skb() {
    let cal = shipped();
    let holidays = [
        (1, 1),
        (1, 16),
        (2, 17),
        (3, 19),
        (3, 21),
        (3, 22),
        (4, 3),
        (4, 5),
        (5, 1),
        (5, 14),
        (5, 27),
        (5, 31),
        (6, 1),
        (6, 16),
        (8, 17),
        (8, 25),
        (12, 25),
    ];
    let cuti = [
        (2, 16),
        (3, 18),
        (3, 20),
        (3, 23),
        (3, 24),
        (5, 15),
        (5, 28),
        (12, 24),
    ];
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    while day.year() == 2026 {
        let md = (day.month(), day.day());
        let expected = if holidays.contains(&md) {
            Some(DayOffKind::Holiday)
        } else if cuti.contains(&md) {
            Some(DayOffKind::CutiBersama)
        } else {
            None
        };
        let got = cal.day_off(day);
        assert_eq!(got.map(|d| d.kind), expected, "{day}");
        if let Some(d) = got {
            assert!(!d.name.trim().is_empty(), "{day} has no name");
        }
        day = day.succ_opt().unwrap();
    }
    assert_eq!(cal.years().collect::<Vec<_>>(), [2026]);
    assert_eq!(cal.zone(), sp4n::model::WIB);
    // 2026 has 261 weekdays; 25 days off, of which 21 Mar, 22 Mar, 5 Apr and 31 May fall
    // on a weekend: 261 - 21 = 240 working days.
    let working = (0..365)
        .map(|i| NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(i))
        .filter(|d| cal.is_working_day(*d))
        .count();
    assert_eq!(working, 240);
}

#[test]
fn a_broken_edit_reads_with_file_line_column_caret_and_hint() {
    let text = "zona = \"Asia/Jakarta\"\nakhir_pekan = [\"sabtu\", \"minggu\"]\n\n[tahun.2027]\nlibur = [\n  { tanggal = 2027-01-01, nama = \"Tahun Baru 2027 Masehi\" },\n  { tanggal = 2026-12-25, nama = \"Natal\" },\n]\n";
    let d = Calendar::parse(Path::new("mappings/calendar.toml"), text).unwrap_err();
    assert_eq!(
        sp4n::diag::render_all(&d),
        "error: 2026-12-25 is outside its section [tahun.2027]\n --> mappings/calendar.toml:7:15\n  |\n7 |   { tanggal = 2026-12-25, nama = \"Natal\" },\n  |               ^^^^^^^^^^\n  = hint: move it to the section of its own year, [tahun.2026]"
    );
}

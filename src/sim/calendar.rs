//! The simulator's own working-day calendar: Monday to Friday less the 2026 national
//! holidays and cuti bersama (SKB 3 Menteri, 19 September 2025), and in every year the
//! fixed-date national holidays (1 January, 1 May, 1 June, 17 August, 25 December). It drives the platform's
//! automatic closing; the connector's calendar is a separate, administrator-edited file.

use crate::model::WIB;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};

/// 2026 national holidays and cuti bersama, as (month, day).
const DAYS_OFF_2026: &[(u32, u32)] = &[
    (1, 1),
    (1, 16),
    (2, 16),
    (2, 17),
    (3, 18),
    (3, 19),
    (3, 20),
    (3, 21),
    (3, 22),
    (3, 23),
    (3, 24),
    (4, 3),
    (4, 5),
    (5, 1),
    (5, 14),
    (5, 15),
    (5, 27),
    (5, 28),
    (5, 31),
    (6, 1),
    (6, 16),
    (8, 17),
    (8, 25),
    (12, 24),
    (12, 25),
];

/// True when `d` is a working day.
pub fn is_working_day(d: NaiveDate) -> bool {
    if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    if matches!(
        (d.month(), d.day()),
        (1, 1) | (5, 1) | (6, 1) | (8, 17) | (12, 25)
    ) {
        return false;
    }
    !(d.year() == 2026 && DAYS_OFF_2026.contains(&(d.month(), d.day())))
}

/// The instant `n` working days after `t`, at the same WIB time of day.
pub fn add_working_days(t: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let local = t.with_timezone(&WIB);
    let mut d = local.date_naive();
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if is_working_day(d) {
            left -= 1;
        }
    }
    let naive = d.and_time(local.time());
    WIB.from_local_datetime(&naive)
        .single()
        .map(|x| x.with_timezone(&Utc))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_weekends_and_2026_holidays() {
        let t = crate::model::parse_timestamp("2026-12-21T10:00:00+07:00").unwrap();
        // 22, 23 Dec work; 24 cuti bersama; 25 Natal; 26-27 weekend; 28.. work.
        let due = add_working_days(t, 3);
        assert_eq!(crate::model::format_wib(due), "2026-12-28T10:00:00+07:00");
        assert!(!is_working_day(
            NaiveDate::from_ymd_opt(2026, 8, 17).unwrap()
        ));
        assert!(is_working_day(
            NaiveDate::from_ymd_opt(2026, 8, 18).unwrap()
        ));
    }
}

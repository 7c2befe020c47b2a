//! The working-day calendar (`mappings/calendar.toml`): which days in Kulon Progo are
//! working days, and the two pieces of arithmetic every SLA clock is built on.
//!
//! A working day is a day of the week outside `akhir_pekan` (Saturday and Sunday) that is
//! neither a national holiday (`libur`) nor a cuti bersama day, judged on the WIB date.
//! Each year's movable days off come from a new SKB, so the file has one `[tahun.YYYY]`
//! section per year. The fixed-date national holidays ([`FIXED_HOLIDAYS`]: 1 January,
//! 1 May, 1 June, 17 August, 25 December) hold every year, listed or not. A year with no
//! section is *not covered*: it is counted with weekends and the fixed-date holidays only,
//! and every computation that touched it says so ([`Deadline::uncovered_years`]), so that
//! `check`, `status` and the report can warn that such deadlines may still move.
//!
//! # Deadline semantics (the contract's counting convention)
//!
//! "n working days from `start`" ([`Calendar::deadline`]):
//!
//! * **Day 0** is the WIB date of `start` when it is a working day, else the next working
//!   day. The hour does not matter: a complaint received on Monday at 08:00 or at 20:00
//!   has Monday as day 0; one received on Saturday has the following Monday.
//! * The deadline is the end (23:59:59 WIB) of the n-th working day after day 0.
//! * n = 0 means the end of day 0.
//!
//! Example: received Friday 13 March 2026 at 20:00 WIB, n = 3. Friday is day 0; Monday 16
//! and Tuesday 17 are working days 1 and 2; 18 (cuti bersama), 19 (Nyepi), 20 (cuti
//! bersama), 21-22 (Idul Fitri, also a weekend), 23-24 (cuti bersama) are off; Wednesday
//! 25 March is working day 3, so the deadline is 25 March 23:59:59 WIB. Received on
//! Saturday 14 March instead, day 0 is Monday 16 and the deadline is Thursday 26 March.
//!
//! [`Calendar::working_days_between`]`(a, b)` is the inverse: the smallest n with
//! `b <= deadline(a, n)`. So an act at `b` meets an n-day clock started at `a` exactly when
//! `working_days_between(a, b) <= n`; an act on a weekend or holiday counts as if it
//! happened on the next working day.

use crate::diag::Diagnostic;
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;

/// National holidays fixed by date, as (month, day, name): they hold every year, whether
/// or not the year's SKB has been entered in the calendar file.
pub const FIXED_HOLIDAYS: [(u32, u32, &str); 5] = [
    (1, 1, "Tahun Baru Masehi"),
    (5, 1, "Hari Buruh Internasional"),
    (6, 1, "Hari Lahir Pancasila"),
    (8, 17, "Hari Kemerdekaan Republik Indonesia"),
    (12, 25, "Hari Raya Natal"),
];

/// The name of the fixed-date national holiday on `date`, if it is one.
pub fn fixed_holiday(date: NaiveDate) -> Option<&'static str> {
    FIXED_HOLIDAYS
        .iter()
        .find(|(m, d, _)| date.month() == *m && date.day() == *d)
        .map(|(_, _, name)| *name)
}

/// The longest span, in days, any computation walks before giving up. 20 years of days is
/// far beyond any SLA clock; it only guards against a calendar where nothing is a working
/// day.
const MAX_WALK_DAYS: u32 = 366 * 20;

/// Why a day is not a working day (beyond the weekend).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOffKind {
    /// A national holiday (`libur`).
    Holiday,
    /// A cuti bersama day.
    CutiBersama,
}

/// A named day off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayOff {
    pub date: NaiveDate,
    pub name: String,
    pub kind: DayOffKind,
}

/// The working-day calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    zone: Tz,
    /// Indexed by `Weekday::num_days_from_monday`.
    weekend: [bool; 7],
    days_off: BTreeMap<NaiveDate, DayOff>,
    years: BTreeSet<i32>,
}

/// A deadline, with the years it was computed over that the calendar does not cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub at: DateTime<Utc>,
    /// Years touched by the count that have no `[tahun.YYYY]` section (counted with
    /// weekends and fixed-date holidays only). Empty when the deadline is exact.
    pub uncovered_years: Vec<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    zona: Spanned<String>,
    akhir_pekan: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    tahun: BTreeMap<Spanned<String>, RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    #[serde(default)]
    #[allow(dead_code)] // documentation for people; kept so that the key is allowed
    sumber: Option<String>,
    #[serde(default)]
    libur: Vec<RawDay>,
    #[serde(default)]
    cuti_bersama: Vec<RawDay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    tanggal: Spanned<toml::value::Datetime>,
    nama: Spanned<String>,
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_lowercase().as_str() {
        "senin" | "monday" => Weekday::Mon,
        "selasa" | "tuesday" => Weekday::Tue,
        "rabu" | "wednesday" => Weekday::Wed,
        "kamis" | "thursday" => Weekday::Thu,
        "jumat" | "jum'at" | "friday" => Weekday::Fri,
        "sabtu" | "saturday" => Weekday::Sat,
        "minggu" | "ahad" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

impl Calendar {
    /// A calendar with a Saturday/Sunday weekend, no days off and no covered year: what
    /// the clocks fall back to when `calendar.toml` is missing (every year is flagged).
    pub fn weekends_only(zone: Tz) -> Calendar {
        let mut weekend = [false; 7];
        weekend[Weekday::Sat.num_days_from_monday() as usize] = true;
        weekend[Weekday::Sun.num_days_from_monday() as usize] = true;
        Calendar {
            zone,
            weekend,
            days_off: BTreeMap::new(),
            years: BTreeSet::new(),
        }
    }

    /// Reads and checks a calendar file. `Ok` carries the calendar and its warnings;
    /// `Err` carries every diagnostic (at least one error) and no calendar.
    pub fn load(path: &Path) -> Result<(Calendar, Vec<Diagnostic>), Vec<Diagnostic>> {
        match crate::limits::read_to_string_capped(path, crate::limits::MAX_MAPPING_FILE_BYTES) {
            Ok(text) => Calendar::parse(path, &text),
            Err(e) => Err(vec![Diagnostic::error(
                path,
                "",
                None,
                format!("cannot read the calendar: {e}"),
                "the calendar lives in mappings/calendar.toml; restore it from the repository",
            )]),
        }
    }

    /// Parses calendar text; `path` names it in diagnostics.
    pub fn parse(path: &Path, text: &str) -> Result<(Calendar, Vec<Diagnostic>), Vec<Diagnostic>> {
        let raw: RawCalendar = toml::from_str(text).map_err(|e| {
            let mut d = Diagnostic::from_toml(path, text, &e);
            if d.hint.is_empty() && d.message.starts_with("missing field") {
                d.hint = "each day needs both: { tanggal = 2026-08-17, nama = \"Hari Kemerdekaan Republik Indonesia\" }; a file needs zona and akhir_pekan".to_string();
            } else if d.hint.is_empty() && d.message.to_lowercase().contains("date") {
                d.hint =
                    "write a real date without quotes, as YYYY-MM-DD, e.g. 2026-08-17".to_string();
            }
            vec![d]
        })?;
        let mut diags = Vec::new();
        let err = |diags: &mut Vec<Diagnostic>, span, msg: String, hint: &str| {
            diags.push(Diagnostic::error(path, text, Some(span), msg, hint));
        };

        let zone = match raw.zona.get_ref().parse::<Tz>() {
            Ok(z) => z,
            Err(_) => {
                err(
                    &mut diags,
                    raw.zona.span(),
                    format!("unknown time zone '{}'", raw.zona.get_ref()),
                    "use an IANA zone name; Kulon Progo is Asia/Jakarta (WIB)",
                );
                chrono_tz::Asia::Jakarta
            }
        };

        let mut weekend = [false; 7];
        for day in raw.akhir_pekan.get_ref() {
            match parse_weekday(day.get_ref()) {
                Some(w) => {
                    let i = w.num_days_from_monday() as usize;
                    if weekend[i] {
                        err(
                            &mut diags,
                            day.span(),
                            format!("'{}' is listed twice in akhir_pekan", day.get_ref()),
                            "list each day once",
                        );
                    }
                    weekend[i] = true;
                }
                None => err(
                    &mut diags,
                    day.span(),
                    format!("'{}' is not a day of the week", day.get_ref()),
                    "use senin, selasa, rabu, kamis, jumat, sabtu or minggu",
                ),
            }
        }
        if weekend.iter().all(|w| *w) {
            err(
                &mut diags,
                raw.akhir_pekan.span(),
                "every day of the week is in akhir_pekan: nothing would ever be a working day"
                    .into(),
                "Kulon Progo's weekend is [\"sabtu\", \"minggu\"]",
            );
        }

        let mut days_off: BTreeMap<NaiveDate, DayOff> = BTreeMap::new();
        let mut years = BTreeSet::new();
        for (key, section) in &raw.tahun {
            let year = match key.get_ref().parse::<i32>() {
                Ok(y) if (1970..=9999).contains(&y) && key.get_ref().len() == 4 => y,
                _ => {
                    err(
                        &mut diags,
                        key.span(),
                        format!("'{}' is not a year", key.get_ref()),
                        "name each section after its year, e.g. [tahun.2027]",
                    );
                    continue;
                }
            };
            years.insert(year);
            if section.libur.is_empty() && section.cuti_bersama.is_empty() {
                diags.push(Diagnostic::warning(
                    path,
                    text,
                    Some(key.span()),
                    format!("the year {year} has no holidays and no cuti bersama"),
                    "copy the dates of that year's SKB 3 Menteri into libur and cuti_bersama",
                ));
            }
            let entries = section
                .libur
                .iter()
                .map(|d| (d, DayOffKind::Holiday))
                .chain(
                    section
                        .cuti_bersama
                        .iter()
                        .map(|d| (d, DayOffKind::CutiBersama)),
                );
            for (day, kind) in entries {
                let span = day.tanggal.span();
                let dt = day.tanggal.get_ref();
                let date = match (dt.date, dt.time, dt.offset) {
                    (Some(d), None, None) => {
                        NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                    }
                    _ => {
                        err(
                            &mut diags,
                            span,
                            format!("'{dt}' is not a plain date"),
                            "write only the date, without a time, e.g. 2026-08-17",
                        );
                        continue;
                    }
                };
                let Some(date) = date else {
                    err(
                        &mut diags,
                        span,
                        format!("'{dt}' is not a valid date"),
                        "check the day and month against the SKB",
                    );
                    continue;
                };
                if date.year() != year {
                    err(
                        &mut diags,
                        span,
                        format!("{date} is outside its section [tahun.{year}]"),
                        &format!(
                            "move it to the section of its own year, [tahun.{}]",
                            date.year()
                        ),
                    );
                    continue;
                }
                if day.nama.get_ref().trim().is_empty() {
                    err(
                        &mut diags,
                        day.nama.span(),
                        format!("the day off {date} has no name"),
                        "write its name as in the SKB, e.g. nama = \"Hari Raya Natal\"",
                    );
                }
                if let Some(first) = days_off.get(&date) {
                    err(
                        &mut diags,
                        span,
                        format!("{date} is listed twice (first as '{}')", first.name),
                        "keep one entry per date",
                    );
                    continue;
                }
                days_off.insert(
                    date,
                    DayOff {
                        date,
                        name: day.nama.get_ref().trim().to_string(),
                        kind,
                    },
                );
            }
        }

        if diags.iter().any(Diagnostic::is_error) {
            return Err(diags);
        }
        Ok((
            Calendar {
                zone,
                weekend,
                days_off,
                years,
            },
            diags,
        ))
    }

    /// The zone dates are judged in (WIB for Kulon Progo).
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// True when the year has a `[tahun.YYYY]` section.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years the calendar covers, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The years from the year of `from` to the year of `to` (inclusive, in the
    /// calendar's zone) that the calendar does not cover.
    pub fn uncovered_years(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<i32> {
        let a = self.local_date(from).year();
        let b = self.local_date(to).year();
        (a.min(b)..=a.max(b)).filter(|y| !self.covers(*y)).collect()
    }

    /// Everything `sp4n mappings check` says about the calendar file at `now`: its errors,
    /// or its warnings plus one warning per year needed soon that it lacks
    /// ([`Calendar::missing_years_near`]).
    pub fn check(path: &Path, now: DateTime<Utc>) -> Vec<Diagnostic> {
        match Calendar::load(path) {
            Err(diags) => diags,
            Ok((cal, mut warnings)) => {
                let text = crate::limits::read_to_string_capped(
                    path,
                    crate::limits::MAX_MAPPING_FILE_BYTES,
                )
                .unwrap_or_default();
                warnings.extend(cal.coverage_warnings(path, &text, cal.missing_years_near(now)));
                warnings
            }
        }
    }

    /// The years the clocks need soon that the calendar lacks: the year of `now`, and from
    /// 1 December on also the next year (December deadlines run into January). For
    /// `sp4n status`, `/metrics` and `check`.
    pub fn missing_years_near(&self, now: DateTime<Utc>) -> Vec<i32> {
        let today = self.local_date(now);
        let mut years = vec![today.year()];
        if today.month() == 12 {
            years.push(today.year() + 1);
        }
        years.retain(|y| !self.covers(*y));
        years
    }

    /// Warnings for `sp4n mappings check` and the report: one per year in `years` that the
    /// calendar does not cover. `text` is the calendar's source (for the location).
    pub fn coverage_warnings(
        &self,
        path: &Path,
        text: &str,
        years: impl IntoIterator<Item = i32>,
    ) -> Vec<Diagnostic> {
        let mut years: Vec<i32> = years.into_iter().filter(|y| !self.covers(*y)).collect();
        years.sort_unstable();
        years.dedup();
        years
            .into_iter()
            .map(|y| {
                Diagnostic::warning(
                    path,
                    text,
                    None,
                    format!(
                        "the year {y} is not in the calendar: its SLA clocks count weekends and the fixed-date holidays only; deadlines in {y} may move when its SKB days off are added"
                    ),
                    format!(
                        "add a [tahun.{y}] section with the holidays and cuti bersama of the SKB for {y}"
                    ),
                )
            })
            .collect()
    }

    /// The named day off on `date`, if any (weekends are not listed).
    pub fn day_off(&self, date: NaiveDate) -> Option<&DayOff> {
        self.days_off.get(&date)
    }

    /// True for a weekday outside the weekend that is no holiday or cuti bersama. In an
    /// uncovered year the weekend and the fixed-date holidays count.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.weekend[date.weekday().num_days_from_monday() as usize]
            && !self.days_off.contains_key(&date)
            && fixed_holiday(date).is_none()
    }

    /// Day 0 of a clock started at `start`: its WIB date if that is a working day, else
    /// the next working day.
    pub fn day_zero(&self, start: DateTime<Utc>) -> NaiveDate {
        let mut day = self.local_date(start);
        let mut walked = 0;
        while !self.is_working_day(day) && walked < MAX_WALK_DAYS {
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
            walked += 1;
        }
        day
    }

    /// The calendar date of an instant in the calendar's zone.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.zone).date_naive()
    }

    /// The last second of `date` (23:59:59 local), as an instant.
    pub fn end_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
        self.zone
            .from_local_datetime(&local)
            .latest()
            .map(|t| t.with_timezone(&Utc))
            // A zone whose day ends in a gap: fall back to the start of the next day - 1 s.
            .unwrap_or_else(|| {
                let next = date.succ_opt().unwrap_or(date).and_time(NaiveTime::MIN);
                self.zone
                    .from_local_datetime(&next)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc) - chrono::Duration::seconds(1))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&local))
            })
    }

    /// The deadline of an n-working-day clock started at `start` (see the module docs),
    /// with the uncovered years it was counted over.
    pub fn deadline(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let first = self.local_date(start);
        let mut day = self.day_zero(start);
        let mut uncovered = BTreeSet::new();
        for y in first.year()..=day.year() {
            if !self.covers(y) {
                uncovered.insert(y);
            }
        }
        let mut counted = 0;
        let mut walked = 0;
        while counted < n && walked < MAX_WALK_DAYS {
            day = match day.checked_add_days(Days::new(1)) {
                Some(d) => d,
                None => break,
            };
            walked += 1;
            if !self.covers(day.year()) {
                uncovered.insert(day.year());
            }
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        Deadline {
            at: self.end_of_day(day),
            uncovered_years: uncovered.into_iter().collect(),
        }
    }

    /// The working days `d` with `after < d <= upto` (0 when `upto <= after`).
    pub fn working_days_in(&self, after: NaiveDate, upto: NaiveDate) -> u32 {
        let mut n = 0;
        let mut day = after;
        let mut walked = 0;
        while day < upto && walked < MAX_WALK_DAYS {
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            walked += 1;
            if self.is_working_day(day) {
                n += 1;
            }
        }
        n
    }

    /// [`Calendar::deadline`] without the coverage flag.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        self.deadline(start, n).at
    }

    /// The working days from `a` to `b`: the smallest n with `b <= add_working_days(a, n)`
    /// (0 when `b` is on day 0 of `a` or earlier). Working days strictly after day 0 of `a`
    /// up to the day of `b` count; if the day of `b` is not a working day, it counts as the
    /// next working day.
    pub fn working_days_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> u32 {
        let start = self.day_zero(a);
        let end = self.local_date(b);
        if end <= start {
            return 0;
        }
        let mut n = 0;
        let mut day = start;
        let mut walked = 0;
        while day < end && walked < MAX_WALK_DAYS {
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
            walked += 1;
            if self.is_working_day(day) {
                n += 1;
            }
        }
        if !self.is_working_day(end) {
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn shipped() -> Calendar {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml");
        let (cal, warnings) = Calendar::load(&path).expect("the shipped calendar is valid");
        assert!(warnings.is_empty(), "{warnings:?}");
        cal
    }

    fn wib(s: &str) -> DateTime<Utc> {
        crate::model::parse_timestamp(s).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shipped_calendar_lists_every_2026_day_off_by_name() {
        let cal = shipped();
        assert!(cal.covers(2026));
        assert!(!cal.covers(2027));
        assert_eq!(cal.days_off.len(), 17 + 8);
        let holidays = cal
            .days_off
            .values()
            .filter(|d| d.kind == DayOffKind::Holiday)
            .count();
        assert_eq!(holidays, 17);
        assert_eq!(
            cal.day_off(d(2026, 8, 17)).unwrap().name,
            "Hari Kemerdekaan Republik Indonesia"
        );
        assert_eq!(
            cal.day_off(d(2026, 12, 24)).unwrap().kind,
            DayOffKind::CutiBersama
        );
        assert!(cal.days_off.values().all(|d| !d.name.is_empty()));
    }

    #[test]
    fn weekends_holidays_and_cuti_bersama_are_not_working_days() {
        let cal = shipped();
        assert!(cal.is_working_day(d(2026, 11, 27))); // Friday
        assert!(!cal.is_working_day(d(2026, 11, 28))); // Saturday
        assert!(!cal.is_working_day(d(2026, 11, 29))); // Sunday
        assert!(!cal.is_working_day(d(2026, 1, 16))); // Isra Mikraj, Friday
        assert!(!cal.is_working_day(d(2026, 2, 16))); // cuti bersama, Monday
        assert!(!cal.is_working_day(d(2026, 2, 17))); // Imlek, Tuesday
        assert!(cal.is_working_day(d(2026, 2, 18)));
    }

    #[test]
    fn friday_evening_before_the_idul_fitri_break() {
        let cal = shipped();
        // Friday 13 March 2026, 20:00 WIB. Working days: Mon 16 (1), Tue 17 (2), then
        // 18-24 are off (cuti bersama, Nyepi, Idul Fitri, weekend), Wed 25 (3).
        let start = wib("2026-03-13T20:00:00+07:00");
        assert_eq!(
            cal.add_working_days(start, 3),
            wib("2026-03-25T23:59:59+07:00")
        );
        assert_eq!(
            cal.add_working_days(start, 1),
            wib("2026-03-16T23:59:59+07:00")
        );
        // Received on the Tuesday evening itself: all of 18-24 is off.
        let tue = wib("2026-03-17T20:00:00+07:00");
        assert_eq!(
            cal.add_working_days(tue, 1),
            wib("2026-03-25T23:59:59+07:00")
        );
        // The hour of receipt does not matter, only the WIB date.
        let late = wib("2026-03-13T23:30:00+07:00");
        assert_eq!(
            cal.add_working_days(late, 3),
            wib("2026-03-25T23:59:59+07:00")
        );
        // 00:30 WIB on Monday is still Sunday in UTC: Monday is the day of receipt.
        let after_midnight = wib("2026-03-16T00:30:00+07:00");
        assert_eq!(
            cal.add_working_days(after_midnight, 1),
            wib("2026-03-17T23:59:59+07:00")
        );
        assert!(cal.deadline(start, 3).uncovered_years.is_empty());
    }

    #[test]
    fn zero_days_is_the_end_of_day_zero() {
        let cal = shipped();
        let monday = wib("2026-11-30T09:00:00+07:00");
        assert_eq!(
            cal.add_working_days(monday, 0),
            wib("2026-11-30T23:59:59+07:00")
        );
        // Received on a Saturday: day 0 is the Monday after.
        let saturday = wib("2026-11-28T09:00:00+07:00");
        assert_eq!(
            cal.add_working_days(saturday, 0),
            wib("2026-11-30T23:59:59+07:00")
        );
    }

    #[test]
    fn a_saturday_start_counts_from_the_monday_as_day_zero() {
        let cal = shipped();
        // Saturday 14 March 2026: day 0 is Monday 16, then Tuesday 17 (1), the break
        // 18-24, Wednesday 25 (2), Thursday 26 (3).
        let sat = wib("2026-03-14T10:00:00+07:00");
        assert_eq!(cal.day_zero(sat), d(2026, 3, 16));
        assert_eq!(
            cal.add_working_days(sat, 3),
            wib("2026-03-26T23:59:59+07:00")
        );
        // A Saturday in an ordinary week: Sat 21 Nov 2026 -> day 0 Mon 23 -> Thu 26.
        let sat = wib("2026-11-21T22:00:00+07:00");
        assert_eq!(
            cal.add_working_days(sat, 3),
            wib("2026-11-26T23:59:59+07:00")
        );
        // An act on the Monday itself is 0 working days after it.
        assert_eq!(
            cal.working_days_between(sat, wib("2026-11-23T16:00:00+07:00")),
            0
        );
    }

    #[test]
    fn a_holiday_start_counts_from_the_next_working_day() {
        let cal = shipped();
        // Monday 17 August 2026 (Independence Day): day 0 is Tuesday 18; then 19, 20, 21,
        // 24 and (25 Aug is Maulid) 26 -> Wednesday 26.
        let start = wib("2026-08-17T09:00:00+07:00");
        assert_eq!(cal.day_zero(start), d(2026, 8, 18));
        assert_eq!(
            cal.add_working_days(start, 5),
            wib("2026-08-26T23:59:59+07:00")
        );
        // Christmas Eve (cuti bersama) 2026: day 0 is Monday 28 Dec; 3 days -> 31 Dec.
        let eve = wib("2026-12-24T11:00:00+07:00");
        assert_eq!(
            cal.add_working_days(eve, 3),
            wib("2026-12-31T23:59:59+07:00")
        );
        assert!(cal.deadline(eve, 3).uncovered_years.is_empty());
        // New Year's Day of a year the file lacks is still a holiday: day 0 is 4 Jan 2027.
        let ny = wib("2027-01-01T08:00:00+07:00");
        assert_eq!(cal.day_zero(ny), d(2027, 1, 4));
        assert_eq!(cal.deadline(ny, 1).at, wib("2027-01-05T23:59:59+07:00"));
        assert_eq!(cal.deadline(ny, 1).uncovered_years, vec![2027]);
    }

    #[test]
    fn fixed_date_holidays_hold_in_years_the_file_lacks() {
        let cal = shipped();
        for (y, m, day) in [
            (2027, 1, 1),
            (2027, 5, 1),
            (2027, 6, 1),
            (2027, 8, 17),
            (2027, 12, 25),
            (2031, 8, 17),
        ] {
            let date = d(y, m, day);
            assert!(!cal.is_working_day(date), "{date}");
            assert!(fixed_holiday(date).is_some());
        }
        // Movable ones are unknown without the SKB: 2027's Idul Fitri is not guessed.
        assert!(cal.is_working_day(d(2027, 3, 10)));
    }

    #[test]
    fn year_boundary_into_an_uncovered_year_is_flagged() {
        let cal = shipped();
        // Wednesday 23 Dec 2026 is day 0: 24 cuti bersama, 25 Natal, 26-27 weekend, 28-31
        // working (1-4), then 2027 (not covered): 1 Jan 2027 is a fixed-date holiday even
        // so, 2-3 the weekend, Monday 4 Jan is day 5.
        let start = wib("2026-12-23T10:00:00+07:00");
        let dl = cal.deadline(start, 5);
        assert_eq!(dl.at, wib("2027-01-04T23:59:59+07:00"));
        assert_eq!(dl.uncovered_years, vec![2027]);
        let inside = cal.deadline(start, 4);
        assert_eq!(inside.at, wib("2026-12-31T23:59:59+07:00"));
        assert!(inside.uncovered_years.is_empty());
        assert_eq!(
            cal.uncovered_years(start, wib("2027-02-01T00:00:00Z")),
            vec![2027]
        );
    }

    #[test]
    fn a_missing_year_counts_weekends_only_and_says_so() {
        let cal = shipped();
        let start = wib("2025-08-15T10:00:00+07:00"); // Friday; 17 Aug 2025 unknown here
        let dl = cal.deadline(start, 1);
        assert_eq!(dl.at, wib("2025-08-18T23:59:59+07:00"));
        assert_eq!(dl.uncovered_years, vec![2025]);
        let w = cal.coverage_warnings(Path::new("calendar.toml"), "", [2025, 2026, 2027, 2025]);
        assert_eq!(w.len(), 2);
        assert!(w[0].message.contains("2025"), "{}", w[0]);
        assert!(w[1].hint.contains("[tahun.2027]"), "{}", w[1]);
        assert!(!w[0].is_error());
    }

    #[test]
    fn years_needed_soon_include_next_year_in_december() {
        let cal = shipped();
        assert!(
            cal.missing_years_near(wib("2026-11-30T23:00:00+07:00"))
                .is_empty()
        );
        // 1 Dec 00:30 WIB is still 30 Nov in UTC: the WIB date decides.
        assert_eq!(
            cal.missing_years_near(wib("2026-12-01T00:30:00+07:00")),
            vec![2027]
        );
        assert_eq!(
            cal.missing_years_near(wib("2027-03-01T00:00:00+07:00")),
            vec![2027]
        );
    }

    #[test]
    fn check_warns_about_next_year_in_december() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mappings/calendar.toml");
        assert!(Calendar::check(&path, wib("2026-06-01T00:00:00+07:00")).is_empty());
        let d = Calendar::check(&path, wib("2026-12-02T00:00:00+07:00"));
        assert_eq!(d.len(), 1);
        assert!(!d[0].is_error());
        assert!(d[0].message.contains("2027"), "{}", d[0]);
        let missing = Calendar::check(Path::new("/nonexistent/calendar.toml"), Utc::now());
        assert!(missing[0].is_error());
    }

    #[test]
    fn working_days_between_counts_like_the_deadline() {
        let cal = shipped();
        let fri = wib("2026-03-13T20:00:00+07:00");
        for (until, days) in [
            ("2026-03-13T20:00:00+07:00", 0),
            ("2026-03-14T10:00:00+07:00", 1), // Saturday counts as the Monday
            ("2026-03-16T10:00:00+07:00", 1),
            ("2026-03-17T10:00:00+07:00", 2),
            ("2026-03-20T10:00:00+07:00", 3), // cuti bersama counts as the 25th
            ("2026-03-25T23:00:00+07:00", 3),
            ("2026-03-26T08:00:00+07:00", 4),
            ("2026-03-01T08:00:00+07:00", 0), // before the start
        ] {
            assert_eq!(cal.working_days_between(fri, wib(until)), days, "{until}");
        }
    }

    fn check(text: &str) -> Vec<Diagnostic> {
        match Calendar::parse(Path::new("calendar.toml"), text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(d) => d,
        }
    }

    const HEAD: &str = "zona = \"Asia/Jakarta\"\nakhir_pekan = [\"sabtu\", \"minggu\"]\n";

    #[test]
    fn unknown_keys_are_errors_with_a_location() {
        let d = check(&format!(
            "{HEAD}[tahun.2026]\nlibur = [{{ tanggal = 2026-01-01, nama = \"Tahun Baru\", jenis = \"x\" }}]\n"
        ));
        let s = d[0].to_string();
        assert!(s.contains("unknown field `jenis`"), "{s}");
        assert!(s.contains("calendar.toml:4:"), "{s}");
    }

    #[test]
    fn duplicate_dates_are_errors_at_the_second_entry() {
        let text = format!(
            "{HEAD}[tahun.2026]\nlibur = [{{ tanggal = 2026-12-25, nama = \"Natal\" }}]\ncuti_bersama = [{{ tanggal = 2026-12-25, nama = \"Cuti Natal\" }}]\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].column), (5, 29));
        assert!(
            d[0].message.contains("listed twice (first as 'Natal')"),
            "{}",
            d[0]
        );
    }

    #[test]
    fn dates_outside_their_year_section_are_errors() {
        let d = check(&format!(
            "{HEAD}[tahun.2026]\nlibur = [{{ tanggal = 2027-01-01, nama = \"Tahun Baru\" }}]\n"
        ));
        assert!(
            d[0].message.contains("outside its section [tahun.2026]"),
            "{}",
            d[0]
        );
        assert!(d[0].hint.contains("[tahun.2027]"), "{}", d[0]);
    }

    #[test]
    fn invalid_dates_and_quoted_dates_are_errors() {
        let d = check(&format!(
            "{HEAD}[tahun.2026]\nlibur = [{{ tanggal = 2026-02-30, nama = \"X\" }}]\n"
        ));
        assert_eq!(d[0].line, 4, "{}", d[0]);
        let d = check(&format!(
            "{HEAD}[tahun.2026]\nlibur = [{{ tanggal = \"2026-02-03\", nama = \"X\" }}]\n"
        ));
        assert_eq!(d[0].line, 4, "{}", d[0]);
        assert!(d[0].hint.contains("without quotes"), "{}", d[0]);
    }

    #[test]
    fn bad_zone_weekday_and_year_names() {
        let d = check(
            "zona = \"WIB\"\nakhir_pekan = [\"sabtu\", \"ahadd\"]\n[tahun.duaribu]\nlibur = []\n",
        );
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("unknown time zone 'WIB'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("'ahadd' is not a day")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("'duaribu' is not a year")),
            "{msgs:?}"
        );
    }

    #[test]
    fn an_empty_year_is_a_warning_not_an_error() {
        let (cal, w) =
            Calendar::parse(Path::new("c.toml"), &format!("{HEAD}[tahun.2027]\n")).unwrap();
        assert!(cal.covers(2027));
        assert_eq!(w.len(), 1);
        assert!(!w[0].is_error());
    }

    proptest::proptest! {
        #[test]
        fn between_is_the_inverse_of_deadline(
            start_min in 0i64..(2 * 366 * 24 * 60),
            len_min in 0i64..(40 * 24 * 60),
            n in 0u32..15,
        ) {
            let cal = shipped();
            let base = wib("2025-12-01T00:00:00+07:00");
            let a = base + chrono::Duration::minutes(start_min);
            let b = a + chrono::Duration::minutes(len_min);
            let met = b <= cal.add_working_days(a, n);
            proptest::prop_assert_eq!(met, cal.working_days_between(a, b) <= n);
        }
    }
}

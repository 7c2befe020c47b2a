//! Crontab lines as administrators write them, translated for the `cron` crate, which
//! evaluates them in a configurable zone.
//!
//! Accepted forms:
//!
//! * 5 fields, ordinary crontab: `minute hour day-of-month month day-of-week`;
//! * 6 fields, with seconds first: `second minute hour day-of-month month day-of-week`;
//! * `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`).
//!
//! Day of week counts as crontab does: 1 = Monday ... 6 = Saturday, 0 or 7 = Sunday, or
//! the names `MON`..`SUN`; months are 1-12 or `JAN`..`DEC` (any case). Each field takes
//! `*`, a value, a range `a-b`, a step `*/n` or `a-b/n` or `a/n`, and comma lists of
//! those. As in crontab, when both day of month and day of week are restricted, a day
//! matches if either matches.
//!
//! This module owns what a line *means*; the `cron` crate finds the fire times. The crate
//! reads seconds first, counts day of week 1 = Sunday and wants *both* day fields to match,
//! so a line is not handed over as written: each field is checked here (an error names the
//! field and what it allows), expanded to the values it names, and written out as an
//! explicit list, days of week by name so that no numbering can be mixed up. A line whose
//! two day fields are both restricted becomes two schedules, one per day field, and fires
//! at the earlier of the two.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// One field of a cron line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

/// The fields of a line in the order the `cron` crate reads them.
const FIELDS: [Field; 6] = [
    Field::Second,
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day of month",
            Field::Month => "month",
            Field::DayOfWeek => "day of week",
        }
    }

    /// The values a line may write (7 is Sunday again in day of week).
    fn range(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// What the field accepts, for error messages.
    pub fn allowed(self) -> &'static str {
        match self {
            Field::Second => "0-59, *, ranges a-b, steps */n, lists a,b",
            Field::Minute => "0-59, *, ranges a-b, steps */n, lists a,b",
            Field::Hour => "0-23, *, ranges a-b, steps */n, lists a,b",
            Field::DayOfMonth => "1-31, *, ranges a-b, steps */n, lists a,b",
            Field::Month => "1-12 or JAN-DEC, *, ranges, steps, lists",
            Field::DayOfWeek => {
                "0-7 or SUN-SAT (1 = Monday, 0 or 7 = Sunday), *, ranges like MON-FRI, steps, lists"
            }
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &[
                "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
            ],
            Field::DayOfWeek => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
            _ => &[],
        }
    }

    /// The number a name stands for (JAN = 1, SUN = 0).
    fn name_value(self, s: &str) -> Option<u32> {
        let i = self
            .names()
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))? as u32;
        Some(if self == Field::Month { i + 1 } else { i })
    }

    /// The field for the `cron` crate: `*` when it names every value, else an explicit
    /// list; days of week by name (the crate's numbers are 1 = Sunday, ours 0 = Sunday).
    fn for_cron(self, values: u64) -> String {
        let (lo, hi) = match self {
            Field::DayOfWeek => (0, 6),
            f => f.range(),
        };
        let listed: Vec<u32> = (lo..=hi).filter(|v| values & (1 << v) != 0).collect();
        if listed.len() == (hi - lo + 1) as usize {
            return "*".to_string();
        }
        let item = |v: u32| match self {
            Field::DayOfWeek => self.names()[v as usize].to_string(),
            _ => v.to_string(),
        };
        listed.into_iter().map(item).collect::<Vec<_>>().join(",")
    }
}

/// A line that is not a schedule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "'{line}' has {found} fields; write 5 (minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\") or 6 with seconds first (e.g. \"0 */15 * * * *\")"
    )]
    FieldCount { line: String, found: usize },
    #[error("'{line}' is not a known shortcut; use @hourly, @daily, @weekly, @monthly or @yearly")]
    UnknownShortcut { line: String },
    #[error("{} field '{value}': {problem}; allowed: {}", .field.name(), .field.allowed())]
    BadField {
        field: Field,
        value: String,
        problem: String,
    },
    #[error("'{line}' never fires (the day of month never occurs in the months given)")]
    Never { line: String },
    /// The `cron` crate refused what this module made of a valid line: a bug here.
    #[error(
        "'{line}' was read as '{expression}', which the cron crate refused ({error}); this is a bug in sp4n: please report it, and write the line another way meanwhile"
    )]
    Translation {
        line: String,
        expression: String,
        error: String,
    },
}

/// A parsed cron line with the zone it is evaluated in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    source: String,
    zone: Tz,
    /// One schedule; or two, by day of month and by day of week, when the line restricts
    /// both (crontab's "either matches": the earlier fire wins).
    schedules: Vec<cron::Schedule>,
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.source, self.zone)
    }
}

fn parse_number(field: Field, s: &str) -> Result<u32, CronError> {
    let bad = |problem: String| CronError::BadField {
        field,
        value: s.to_string(),
        problem,
    };
    let v = if let Some(v) = field.name_value(s) {
        v
    } else if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        s.parse::<u32>()
            .map_err(|_| bad(format!("'{s}' is too large")))?
    } else {
        return Err(bad(format!("'{s}' is not a number")));
    };
    let (lo, hi) = field.range();
    if v < lo || v > hi {
        return Err(bad(format!("{v} is out of range {lo}-{hi}")));
    }
    Ok(v)
}

/// The values a field names, as a bit set, and whether it restricts them (any item but a
/// bare `*`: `*/n` restricts, as it always has here).
fn parse_field(field: Field, text: &str) -> Result<(u64, bool), CronError> {
    let (lo, hi) = field.range();
    let bad = |problem: &str| CronError::BadField {
        field,
        value: text.to_string(),
        problem: problem.to_string(),
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        if part.is_empty() {
            return Err(bad("an empty item in a list"));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(&format!("the step '{s}' is not a positive number")))?;
                (r, Some(step))
            }
            None => (part, None),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (parse_number(field, a)?, parse_number(field, b)?);
            if a > b {
                return Err(bad(&format!("the range {range} runs backwards")));
            }
            (a, b)
        } else {
            let a = parse_number(field, range)?;
            // `a/n` means from a to the end of the range, every n.
            (a, if step.is_some() { hi } else { a })
        };
        for v in (a..=b).step_by(step.unwrap_or(1) as usize) {
            bits |= 1 << v;
        }
    }
    if field == Field::DayOfWeek && bits & (1 << 7) != 0 {
        bits = (bits | 1) & !(1 << 7);
    }
    Ok((bits, text.split(',').any(|part| part != "*")))
}

impl CronSchedule {
    /// Parses a crontab line (see the module docs), evaluated in `zone`.
    pub fn parse(line: &str, zone: Tz) -> Result<CronSchedule, CronError> {
        let trimmed = line.trim();
        let expanded = match trimmed.to_ascii_lowercase().as_str() {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            s if s.starts_with('@') => {
                return Err(CronError::UnknownShortcut {
                    line: trimmed.to_string(),
                });
            }
            _ => trimmed,
        };
        let mut parts: Vec<&str> = expanded.split_whitespace().collect();
        match parts.len() {
            5 => parts.insert(0, "0"),
            6 => {}
            found => {
                return Err(CronError::FieldCount {
                    line: trimmed.to_string(),
                    found,
                });
            }
        }
        let mut fields: [(String, bool); 6] = Default::default();
        for (out, (field, text)) in fields.iter_mut().zip(FIELDS.into_iter().zip(parts)) {
            let (values, restricted) = parse_field(field, text)?;
            *out = (field.for_cron(values), restricted);
        }
        let [
            (sec, _),
            (min, _),
            (hour, _),
            (dom, by_day),
            (month, _),
            (dow, by_weekday),
        ] = fields;
        let expressions = if by_day && by_weekday {
            vec![
                format!("{sec} {min} {hour} {dom} {month} *"),
                format!("{sec} {min} {hour} * {month} {dow}"),
            ]
        } else {
            vec![format!("{sec} {min} {hour} {dom} {month} {dow}")]
        };
        let schedules = expressions
            .into_iter()
            .map(|e| {
                cron::Schedule::from_str(&e).map_err(|error| CronError::Translation {
                    line: trimmed.to_string(),
                    expression: e,
                    error: error.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        let s = CronSchedule {
            source: trimmed.to_string(),
            zone,
            schedules,
        };
        // A line like "0 0 31 2 *" (no February 31st) is refused rather than never run.
        if s.next_after(DateTime::UNIX_EPOCH).is_none() {
            return Err(CronError::Never {
                line: trimmed.to_string(),
            });
        }
        Ok(s)
    }

    /// The line as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The zone the line is read in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first fire strictly after `after`, or `None` if there is none before 2101 (the
    /// `cron` crate's horizon). A local time skipped by a daylight-saving gap does not
    /// fire; an ambiguous one fires at its first occurrence only.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        let first_occurrence = |t: &DateTime<Tz>| {
            self.zone.from_local_datetime(&t.naive_local()).earliest() == Some(*t)
        };
        self.schedules
            .iter()
            .filter_map(|s| s.after(&local).find(|t| *t > local && first_occurrence(t)))
            .min()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` fires after `after` (for `sp4n status`).
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut t = after;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WIB, format_wib, parse_timestamp};

    fn t(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    fn fires(line: &str, after: &str, n: usize) -> Vec<String> {
        CronSchedule::parse(line, WIB)
            .unwrap()
            .upcoming(t(after), n)
            .into_iter()
            .map(format_wib)
            .collect()
    }

    #[test]
    fn five_field_lines_fire_in_wib_with_monday_as_1() {
        // Saturday 28 Nov 2026, 13:00 WIB.
        assert_eq!(
            fires("30 7 * * 1", "2026-11-28T13:00:00+07:00", 2),
            ["2026-11-30T07:30:00+07:00", "2026-12-07T07:30:00+07:00"]
        );
        assert_eq!(
            fires("0 8 * * MON-FRI", "2026-11-27T09:00:00+07:00", 2),
            ["2026-11-30T08:00:00+07:00", "2026-12-01T08:00:00+07:00"]
        );
        // 1-5 is Monday to Friday, as in crontab.
        assert_eq!(
            fires("0 8 * * 1-5", "2026-11-27T09:00:00+07:00", 1),
            ["2026-11-30T08:00:00+07:00"]
        );
        // 0 and 7 are Sunday.
        assert_eq!(
            fires("0 6 * * 7", "2026-11-28T13:00:00+07:00", 1),
            fires("0 6 * * 0", "2026-11-28T13:00:00+07:00", 1)
        );
        assert_eq!(
            fires("0 6 * * sun", "2026-11-28T13:00:00+07:00", 1),
            ["2026-11-29T06:00:00+07:00"]
        );
        assert_eq!(
            fires("*/15 * * * *", "2026-11-28T13:07:30+07:00", 3),
            [
                "2026-11-28T13:15:00+07:00",
                "2026-11-28T13:30:00+07:00",
                "2026-11-28T13:45:00+07:00"
            ]
        );
        // Steps on a weekday range: Monday, Wednesday, Friday.
        assert_eq!(
            fires("0 9 * * 1-5/2", "2026-11-29T00:00:00+07:00", 3),
            [
                "2026-11-30T09:00:00+07:00",
                "2026-12-02T09:00:00+07:00",
                "2026-12-04T09:00:00+07:00"
            ]
        );
    }

    #[test]
    fn fire_times_are_in_the_configured_zone() {
        // 02:30 WIB is 19:30 UTC the day before.
        let s = CronSchedule::parse("30 2 * * *", WIB).unwrap();
        assert_eq!(
            s.next_after(t("2026-11-28T00:00:00Z")),
            Some(t("2026-11-28T19:30:00Z"))
        );
        let utc = CronSchedule::parse("30 2 * * *", chrono_tz::UTC).unwrap();
        assert_eq!(
            utc.next_after(t("2026-11-28T00:00:00Z")),
            Some(t("2026-11-28T02:30:00Z"))
        );
    }

    #[test]
    fn six_field_lines_have_seconds_first() {
        assert_eq!(
            fires("30 */10 * * * *", "2026-11-28T13:00:00+07:00", 2),
            ["2026-11-28T13:00:30+07:00", "2026-11-28T13:10:30+07:00"]
        );
        assert_eq!(
            fires("0 0 12 * * MON", "2026-11-28T13:00:00+07:00", 1),
            ["2026-11-30T12:00:00+07:00"]
        );
    }

    #[test]
    fn day_of_month_or_day_of_week_as_in_crontab() {
        // The 1st of the month OR any Monday.
        assert_eq!(
            fires("0 0 1 * 1", "2026-11-28T13:00:00+07:00", 3),
            [
                "2026-11-30T00:00:00+07:00",
                "2026-12-01T00:00:00+07:00",
                "2026-12-07T00:00:00+07:00"
            ]
        );
        assert_eq!(
            fires("0 0 29 FEB *", "2026-11-28T13:00:00+07:00", 1),
            ["2028-02-29T00:00:00+07:00"]
        );
        assert_eq!(
            fires("@daily", "2026-11-28T13:00:00+07:00", 1),
            ["2026-11-29T00:00:00+07:00"]
        );
    }

    #[test]
    fn daylight_saving_gaps_do_not_fire_and_repeated_times_fire_once() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let s = CronSchedule::parse("30 2 * * *", berlin).unwrap();
        // 29 Mar 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 never happens that day.
        assert_eq!(
            s.next_after(t("2026-03-28T12:00:00Z")),
            Some(t("2026-03-30T00:30:00Z"))
        );
        // 25 Oct 2026: 02:30 happens twice (00:30Z in CEST, 01:30Z in CET); it fires at the
        // first, and not again during the second pass.
        assert_eq!(
            s.next_after(t("2026-10-24T12:00:00Z")),
            Some(t("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            s.next_after(t("2026-10-25T00:30:00Z")),
            Some(t("2026-10-26T01:30:00Z"))
        );
        assert_eq!(
            s.next_after(t("2026-10-25T01:10:00Z")),
            Some(t("2026-10-26T01:30:00Z"))
        );
    }

    fn err(line: &str) -> String {
        CronSchedule::parse(line, WIB).unwrap_err().to_string()
    }

    #[test]
    fn bad_lines_name_the_field_and_what_is_allowed() {
        assert_eq!(
            err("0 8 * * 8"),
            "day of week field '8': 8 is out of range 0-7; allowed: 0-7 or SUN-SAT (1 = Monday, 0 or 7 = Sunday), *, ranges like MON-FRI, steps, lists"
        );
        assert_eq!(
            err("61 * * * *"),
            "minute field '61': 61 is out of range 0-59; allowed: 0-59, *, ranges a-b, steps */n, lists a,b"
        );
        assert!(err("0 24 * * *").starts_with("hour field '24'"));
        assert!(err("0 0 0 * *").starts_with("day of month field '0'"));
        assert!(err("0 0 1 13 *").starts_with("month field '13'"));
        assert!(
            err("0 0 1 JANUARI *").starts_with("month field 'JANUARI': 'JANUARI' is not a number")
        );
        assert!(err("75 * * * * *").starts_with("second field '75'"));
        assert!(err("*/0 * * * *").contains("the step '0' is not a positive number"));
        assert!(err("0 8 * * FRI-MON").contains("the range FRI-MON runs backwards"));
        assert!(err("0 8 * *").contains("has 4 fields; write 5"));
        assert!(err("0 0 8 * * * 2026").contains("has 7 fields"));
        assert!(err("@fortnightly").contains("not a known shortcut"));
        assert!(err("0 0 31 2 *").contains("never fires"));
    }
}

//! Deadlines and the calendar arithmetic of counting down to them.

use super::DisplayName;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a deadline comes from: the configuration file (by position) or an admin (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineOrigin {
    Configured,
    Added(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub origin: DeadlineOrigin,
    pub title: DisplayName,
    pub due: DateTime<Utc>,
    pub note: String,
    /// The date is an estimate (e.g. "early July 2023"): say so when showing it.
    pub approximate: bool,
}

/// An IANA time zone, as configured in `reminders.timezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "crate::domain::Scalar", into = "String")]
pub struct TimeZoneName(Tz);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a time zone: use an IANA name such as UTC, Europe/Berlin or America/New_York"
)]
pub struct UnknownTimeZone(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<Self, UnknownTimeZone> {
        raw.trim()
            .parse::<Tz>()
            .map(Self)
            .map_err(|_| UnknownTimeZone(raw.to_owned()))
    }

    pub fn tz(self) -> Tz {
        self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = UnknownTimeZone;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(value: TimeZoneName) -> Self {
        value.0.name().to_owned()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadDue {
    #[error("{0:?} is not a date or time: write 2023-09-01, 2023-09-01T17:00 (in the configured time zone) or 2023-09-01T17:00:00Z")]
    NotATime(String),
    #[error("{given} never happens in {zone}: the clocks skip ahead that night (daylight saving time); write {after}, the first minute after the change, or a time with an offset")]
    Skipped {
        given: String,
        zone: Tz,
        after: String,
    },
}

/// Parses a due moment: RFC 3339 with an offset is taken as it is; a bare date means the
/// start of that day, and a date and time without offset means that wall-clock time,
/// both in `tz`.
pub fn parse_due(raw: &str, tz: Tz) -> Result<DateTime<Utc>, BadDue> {
    let text = raw.trim();
    let bad = || BadDue::NotATime(raw.to_owned());
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        // A day whose midnight is skipped starts when the clocks resume.
        return local_to_utc(date.and_time(NaiveTime::MIN), tz).ok_or_else(bad);
    }
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .ok_or_else(bad)?;
    if tz.from_local_datetime(&local) == LocalResult::None {
        // A wall-clock time that never happens was surely meant as something else: say
        // so rather than move it silently.
        let after = local_to_utc(local, tz).ok_or_else(bad)?;
        return Err(BadDue::Skipped {
            given: text.to_owned(),
            zone: tz,
            after: after
                .with_timezone(&tz)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
        });
    }
    local_to_utc(local, tz).ok_or_else(bad)
}

/// A wall-clock time in `tz` as an instant. In a DST fold the earlier instant wins; in
/// a DST gap (the wall-clock time never happens) the first minute after the gap does.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => (1..=180).find_map(|minutes| {
            tz.from_local_datetime(&(local + chrono::TimeDelta::minutes(minutes)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

/// How far away a deadline is, in calendar days of the configured time zone (so a day
/// with a DST change still counts as one day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    InDays(u32),
    Tomorrow,
    Today { passed: bool },
    PassedDaysAgo(u32),
}

pub fn distance(due: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Distance {
    let due_day = due.with_timezone(&tz).date_naive();
    let today = now.with_timezone(&tz).date_naive();
    let days = (due_day - today).num_days();
    let days_u32 = |d: i64| u32::try_from(d.unsigned_abs()).unwrap_or(u32::MAX);
    match days {
        0 => Distance::Today { passed: due <= now },
        1 => Distance::Tomorrow,
        d if d > 1 => Distance::InDays(days_u32(d)),
        d => Distance::PassedDaysAgo(days_u32(d)),
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distance::InDays(n) => write!(f, "in {n} days"),
            Distance::Tomorrow => f.write_str("tomorrow"),
            Distance::Today { passed: false } => f.write_str("today"),
            Distance::Today { passed: true } => f.write_str("passed today"),
            Distance::PassedDaysAgo(1) => f.write_str("passed 1 day ago"),
            Distance::PassedDaysAgo(n) => write!(f, "passed {n} days ago"),
        }
    }
}

crate::domain::try_from_scalar!(TimeZoneName);

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    fn tz(name: &str) -> Tz {
        TimeZoneName::parse(name).expect("test zone").tz()
    }

    #[test]
    fn counts_calendar_days() {
        let now = utc("2023-08-29T10:00:00Z");
        let due = utc("2023-09-01T00:00:00Z");
        assert_eq!(distance(due, now, Tz::UTC), Distance::InDays(3));
        assert_eq!(distance(due, now, Tz::UTC).to_string(), "in 3 days");
        assert_eq!(
            distance(due, utc("2023-08-31T23:59:59Z"), Tz::UTC),
            Distance::Tomorrow
        );
        assert_eq!(
            distance(due, utc("2023-09-01T00:00:00Z"), Tz::UTC).to_string(),
            "passed today"
        );
        assert_eq!(
            distance(
                utc("2023-09-01T18:00:00Z"),
                utc("2023-09-01T09:00:00Z"),
                Tz::UTC
            )
            .to_string(),
            "today"
        );
        assert_eq!(
            distance(due, utc("2023-09-02T00:00:00Z"), Tz::UTC).to_string(),
            "passed 1 day ago"
        );
    }

    #[test]
    fn long_past_deadlines_say_how_long_ago() {
        let due = utc("2023-09-01T00:00:00Z");
        let now = utc("2025-11-21T12:00:00Z");
        assert_eq!(
            distance(due, now, Tz::UTC).to_string(),
            "passed 812 days ago"
        );
    }

    #[test]
    fn days_stay_days_across_a_dst_change() {
        // Europe/Berlin springs forward on 2024-03-31: that day has 23 hours.
        let berlin = tz("Europe/Berlin");
        let due = parse_due("2024-04-01", berlin).expect("date");
        let now = parse_due("2024-03-30T00:30", berlin).expect("local time");
        // Only 46.5 hours apart, yet two calendar days.
        assert_eq!((due - now).num_minutes(), 46 * 60 + 30);
        assert_eq!(distance(due, now, berlin), Distance::InDays(2));
        // And falls back on 2024-10-27 (25 hours): 23:30 the day before is still "tomorrow".
        let due = parse_due("2024-10-28", berlin).expect("date");
        let now = parse_due("2024-10-27T00:10", berlin).expect("local time");
        assert_eq!(distance(due, now, berlin), Distance::Tomorrow);
    }

    #[test]
    fn parses_dates_in_the_zone_and_instants_as_given() {
        let ny = tz("America/New_York");
        assert_eq!(parse_due("2023-09-01", ny), Ok(utc("2023-09-01T04:00:00Z")));
        assert_eq!(
            parse_due("2023-09-01T17:00", ny),
            Ok(utc("2023-09-01T21:00:00Z"))
        );
        assert_eq!(
            parse_due("2023-09-01T17:00:00+02:00", ny),
            Ok(utc("2023-09-01T15:00:00Z"))
        );
        assert!(parse_due("next friday", ny).is_err());
        assert!(parse_due("2023-02-30", ny).is_err());
    }

    #[test]
    fn local_times_in_a_dst_gap_or_fold_resolve_predictably() {
        let ny = tz("America/New_York");
        // 02:30 does not exist on 2024-03-10 in New York: refused, naming the way out.
        let skipped = parse_due("2024-03-10T02:30", ny).expect_err("in the gap");
        assert_eq!(
            skipped.to_string(),
            "2024-03-10T02:30 never happens in America/New_York: the clocks skip ahead that night (daylight saving time); write 2024-03-10T03:00, the first minute after the change, or a time with an offset"
        );
        assert_eq!(
            parse_due("2024-03-10T03:00", ny),
            Ok(utc("2024-03-10T07:00:00Z"))
        );
        // A day whose midnight is skipped (Santiago, 2024-09-08) starts at 01:00.
        assert_eq!(
            parse_due("2024-09-08", tz("America/Santiago")),
            Ok(utc("2024-09-08T04:00:00Z"))
        );
        // 01:30 happens twice on 2024-11-03: the first one.
        assert_eq!(
            parse_due("2024-11-03T01:30", ny),
            Ok(utc("2024-11-03T05:30:00Z"))
        );
    }

    #[test]
    fn time_zone_names_are_checked() {
        assert_eq!(
            TimeZoneName::parse("Europe/Berlin").map(String::from),
            Ok("Europe/Berlin".to_owned())
        );
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }
}

//! Time windows of lists, stats and exports, and the timeline's buckets. A `from`/`to` query
//! value is a date (`2024-01-19`, the whole UTC day) or an RFC 3339 instant; windows are
//! half-open `[from, to)`, so `to=2024-02-18` runs through the end of that day.

use time::{Date, OffsetDateTime, macros::format_description};

use super::{DAY_MS, MAX_WINDOW_DAYS, day_ceil, day_floor};
use crate::{Timestamp, ValidationError};

/// A parsed `from` or `to` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateParam {
    /// A whole UTC day, by its midnight.
    Day(i64),
    Instant(i64),
}

impl DateParam {
    pub fn parse(field: &str, raw: &str) -> Result<DateParam, ValidationError> {
        let invalid =
            || ValidationError::new(field, format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 date-time"));
        if raw.len() == 10 {
            let date = Date::parse(raw, format_description!("[year]-[month]-[day]")).map_err(|_| invalid())?;
            let midnight = date.midnight().assume_utc();
            return Ok(DateParam::Day(millis(midnight)));
        }
        Timestamp::parse(raw).map(|t| DateParam::Instant(t.millis())).ok_or_else(invalid)
    }

    /// As the start of a window.
    fn start(self) -> i64 {
        match self {
            DateParam::Day(ms) | DateParam::Instant(ms) => ms,
        }
    }

    /// As the (exclusive) end of a window: a date includes its whole day.
    fn end(self) -> i64 {
        match self {
            DateParam::Day(ms) => ms + DAY_MS,
            DateParam::Instant(ms) => ms,
        }
    }
}

/// How a window is completed and bounded.
#[derive(Clone, Copy, Debug)]
pub struct WindowRules {
    /// Days before `to` when `from` is absent (`None`: unbounded).
    pub default_days: Option<i64>,
    /// Whether the window is capped to `MAX_WINDOW_DAYS`.
    pub capped: bool,
    /// Whether the window is widened to whole UTC days (stats read daily rollups).
    pub whole_days: bool,
}

/// A resolved window `[from, to)` in epoch milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Set when the asked window was longer than the cap: the start it asked for.
    pub capped_from: Option<i64>,
}

impl Window {
    /// Resolves `from`/`to` at instant `now`.
    pub fn resolve(
        from: Option<DateParam>,
        to: Option<DateParam>,
        now: i64,
        rules: WindowRules,
    ) -> Result<Window, ValidationError> {
        let mut end = to.map(DateParam::end);
        if end.is_none() && (rules.default_days.is_some() || rules.capped) {
            end = Some(now);
        }
        if rules.whole_days {
            end = end.map(day_ceil);
        }
        let mut start = from.map(DateParam::start);
        if start.is_none()
            && let (Some(days), Some(end)) = (rules.default_days, end)
        {
            start = Some(end - days * DAY_MS);
        }
        if rules.whole_days {
            start = start.map(day_floor);
        }
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ValidationError::new("from", "from must not be after to"));
        }
        let mut capped_from = None;
        if rules.capped
            && let (Some(s), Some(e)) = (start, end)
            && e - s > MAX_WINDOW_DAYS * DAY_MS
        {
            capped_from = Some(s);
            start = Some(e - MAX_WINDOW_DAYS * DAY_MS);
        }
        Ok(Window { from: start, to: end, capped_from })
    }
}

/// The timeline's bucket size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn parse(raw: &str) -> Option<Granularity> {
        match raw {
            "day" => Some(Granularity::Day),
            "week" => Some(Granularity::Week),
            "month" => Some(Granularity::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// The start of the bucket holding the day `day` (a UTC midnight): the day itself, its
    /// ISO week's Monday, or its month's first day.
    pub fn bucket_start(self, day: i64) -> i64 {
        match self {
            Granularity::Day => day,
            Granularity::Week => {
                let days = day.div_euclid(DAY_MS);
                // 1970-01-01 was a Thursday: three days after a Monday.
                (days - (days + 3).rem_euclid(7)) * DAY_MS
            }
            Granularity::Month => Timestamp::from_millis(day).month_start().millis(),
        }
    }

    fn next(self, bucket: i64) -> i64 {
        match self {
            Granularity::Day => bucket + DAY_MS,
            Granularity::Week => bucket + 7 * DAY_MS,
            Granularity::Month => Timestamp::from_millis(bucket).next_month_start().millis(),
        }
    }

    /// Every bucket start touching `[from_day, to_day)`, empty ones included.
    pub fn buckets(self, from_day: i64, to_day: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut b = self.bucket_start(from_day);
        while b < to_day {
            out.push(b);
            b = self.next(b);
        }
        out
    }
}

/// `YYYY-MM-DD` of a UTC instant.
pub fn date_label(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_19: i64 = 1_705_622_400_000;

    fn rules(default_days: Option<i64>, capped: bool, whole_days: bool) -> WindowRules {
        WindowRules { default_days, capped, whole_days }
    }

    #[test]
    fn a_date_covers_its_whole_day_and_an_instant_is_exact() {
        assert_eq!(DateParam::parse("from", "2024-01-19").unwrap(), DateParam::Day(JAN_19));
        let w = Window::resolve(
            Some(DateParam::parse("from", "2024-01-19").unwrap()),
            Some(DateParam::parse("to", "2024-01-19").unwrap()),
            0,
            rules(None, false, false),
        )
        .unwrap();
        assert_eq!((w.from, w.to), (Some(JAN_19), Some(JAN_19 + DAY_MS)));
        assert!(DateParam::parse("from", "2024-13-40").is_err());
        assert!(DateParam::parse("from", "yesterday").is_err());
        let i = DateParam::parse("to", "2024-01-19T10:00:00+02:00").unwrap();
        assert_eq!(i, DateParam::Instant(JAN_19 + 8 * 3_600_000));
    }

    #[test]
    fn stats_default_to_the_last_thirty_whole_days_and_cap_to_a_year() {
        let now = JAN_19 + 5_000;
        let w = Window::resolve(None, None, now, rules(Some(30), true, true)).unwrap();
        assert_eq!(w.to, Some(JAN_19 + DAY_MS));
        assert_eq!(w.from, Some(JAN_19 + DAY_MS - 30 * DAY_MS));
        let long = Some(DateParam::Day(JAN_19 - 400 * DAY_MS));
        let w = Window::resolve(long, None, now, rules(Some(30), true, true)).unwrap();
        assert_eq!(w.capped_from, Some(JAN_19 - 400 * DAY_MS));
        assert_eq!(w.to.unwrap() - w.from.unwrap(), 365 * DAY_MS);
        let late = Some(DateParam::Day(JAN_19 + DAY_MS));
        assert!(Window::resolve(late, Some(DateParam::Day(JAN_19 - DAY_MS)), now, rules(None, false, false)).is_err());
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2024-01-19 was a Friday; its Monday is the 15th.
        assert_eq!(date_label(Granularity::Week.bucket_start(JAN_19)), "2024-01-15");
        assert_eq!(date_label(Granularity::Month.bucket_start(JAN_19)), "2024-01-01");
        let weeks = Granularity::Week.buckets(JAN_19, JAN_19 + 10 * DAY_MS);
        assert_eq!(weeks.iter().map(|b| date_label(*b)).collect::<Vec<_>>(), ["2024-01-15", "2024-01-22"]);
        let months = Granularity::Month.buckets(JAN_19, JAN_19 + 30 * DAY_MS);
        assert_eq!(months.iter().map(|b| date_label(*b)).collect::<Vec<_>>(), ["2024-01-01", "2024-02-01"]);
    }
}

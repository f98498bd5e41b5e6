//! Instants as milliseconds since the Unix epoch: cheap to store and compare on both backends,
//! shown as RFC 3339 UTC with milliseconds (`2024-01-15T10:30:00.000Z`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self((nanos / 1_000_000) as i64)
    }

    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Parses RFC 3339 (any offset), keeping millisecond precision.
    pub fn parse(raw: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(raw, &Rfc3339).ok()?;
        Some(Self((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The first instant of this instant's calendar month, UTC.
    pub fn month_start(self) -> Self {
        let d = self.to_datetime();
        let start = d.replace_day(1).map(|d| d.replace_time(time::Time::MIDNIGHT)).unwrap_or(d);
        Self((start.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// The first instant of the next calendar month, UTC.
    pub fn next_month_start(self) -> Self {
        let d = self.month_start().to_datetime();
        let (y, m) = if d.month() == time::Month::December {
            (d.year() + 1, time::Month::January)
        } else {
            (d.year(), d.month().next())
        };
        let next = d.replace_year(y).and_then(|d| d.replace_month(m)).unwrap_or(d);
        Self((next.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        match self.to_datetime().format(&fmt) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(std::fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("`{raw}` is not an RFC 3339 date-time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_rfc3339_with_millis() {
        let t = Timestamp::parse("2024-01-15T10:30:00.123+01:00").expect("parses");
        assert_eq!(t.to_string(), "2024-01-15T09:30:00.123Z");
    }

    #[test]
    fn month_boundaries_roll_over_the_year() {
        let t = Timestamp::parse("2024-12-31T23:59:59Z").expect("parses");
        assert_eq!(t.month_start().to_string(), "2024-12-01T00:00:00.000Z");
        assert_eq!(t.next_month_start().to_string(), "2025-01-01T00:00:00.000Z");
    }
}

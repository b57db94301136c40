//! Instants and durations as the contract writes and reads them.
//!
//! Written: RFC 3339 in UTC with `Z` and whole seconds, `2026-01-07T12:00:00Z`;
//! sub-second precision is truncated toward the past, so a written time is never
//! later than the instant it stands for. Read: any RFC 3339 instant, with fractional
//! seconds and a numeric offset (`+00:00`, `-05:00`) accepted. A time without an
//! offset is rejected: it names no instant.

use std::borrow::Cow;

use jiff::Timestamp;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant on the wire. Serialises as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp(pub Timestamp);

/// Why a string is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not an RFC 3339 timestamp with an offset, such as 2026-01-07T12:00:00Z: {detail}"
)]
pub struct TimestampError {
    text: String,
    detail: String,
}

/// Parses an RFC 3339 instant (fractions and numeric offsets accepted). RFC 3339
/// allows a fraction of any length; digits past the nanosecond are truncated.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, TimestampError> {
    text.parse::<Timestamp>().or_else(|e| {
        truncate_fraction(text)
            .and_then(|short| short.parse::<Timestamp>().ok())
            .ok_or_else(|| TimestampError {
                text: text.to_owned(),
                detail: e.to_string(),
            })
    })
}

/// `text` with a fraction of more than 9 digits cut to 9, or `None` when it has none.
fn truncate_fraction(text: &str) -> Option<String> {
    let dot = text.find('.')?;
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    (digits > 9).then(|| format!("{}{}", &text[..dot + 10], &text[dot + 1 + digits..]))
}

/// Seconds since the Unix epoch, rounded toward the past (floor), so that
/// `1969-12-31T23:59:59.5Z` is second -1, not 0.
pub fn floor_seconds(ts: Timestamp) -> i64 {
    let s = ts.as_second();
    if ts.subsec_nanosecond() < 0 { s - 1 } else { s }
}

/// Formats an instant as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, truncated toward the past).
///
/// Hand-rolled because it sits on the hot path of every document we build: it is
/// several times faster than a general `strftime`. Years outside 0..=9999 (which
/// the contract never meets) fall back to jiff's own formatting.
pub fn format_timestamp(ts: Timestamp) -> String {
    let secs = floor_seconds(ts);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return ts.to_string();
    }
    let mut buf = *b"0000-00-00T00:00:00Z";
    put2(&mut buf[0..2], (y / 100) as u8);
    put2(&mut buf[2..4], (y % 100) as u8);
    put2(&mut buf[5..7], m);
    put2(&mut buf[8..10], d);
    put2(&mut buf[11..13], (sod / 3600) as u8);
    put2(&mut buf[14..16], (sod / 60 % 60) as u8);
    put2(&mut buf[17..19], (sod % 60) as u8);
    buf.iter().map(|&b| b as char).collect()
}

fn put2(out: &mut [u8], v: u8) {
    out[0] = b'0' + v / 10;
    out[1] = b'0' + v % 10;
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days`, exact for every day jiff can represent.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Seconds from `earlier` to `later` as a float, never negative.
///
/// Clock skew: a service's clock and ours disagree a little. A timestamp that lies
/// in the future of `later` is treated as "just now" (age 0) rather than as a
/// negative age, so skew never makes anything look fresher than brand new, and
/// never looks like an error.
pub fn age_seconds(earlier: Timestamp, later: Timestamp) -> f64 {
    let nanos = later.as_nanosecond() - earlier.as_nanosecond();
    if nanos <= 0 { 0.0 } else { nanos as f64 / 1e9 }
}

impl Serialize for UtcTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(self.0))
    }
}

impl<'de> Deserialize<'de> for UtcTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Cow::deserialize(d)?;
        parse_timestamp(&text)
            .map(UtcTimestamp)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for UtcTimestamp {
    fn schema_name() -> Cow<'static, str> {
        "UtcTimestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An RFC 3339 instant. Written in UTC with `Z` and whole seconds; read with fractional seconds and numeric offsets too.",
            "type": "string",
            "format": "date-time",
        })
    }
}

impl From<Timestamp> for UtcTimestamp {
    fn from(ts: Timestamp) -> Self {
        UtcTimestamp(ts)
    }
}

impl std::fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_timestamp(self.0))
    }
}

/// A number of seconds (a TTL or a threshold). Read from any JSON number; written
/// as an integer when it is whole (`60`, as the seed writes it), else as a float.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Seconds(pub f64);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        // 2^53: beyond it, not every integer is representable, so keep the float.
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Seconds)
    }
}

impl JsonSchema for Seconds {
    fn schema_name() -> Cow<'static, str> {
        "Seconds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "A number of seconds.", "type": "number", "minimum": 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s).expect("valid timestamp")
    }

    #[test]
    fn fractions_of_any_length_are_truncated_to_nanoseconds() {
        assert_eq!(
            ts("2026-03-02T14:30:00.123456789987654321Z"),
            ts("2026-03-02T14:30:00.123456789Z")
        );
        assert_eq!(
            ts("2026-03-02T09:30:00.99999999999-05:00"),
            ts("2026-03-02T14:30:00.999999999Z")
        );
        assert!(parse_timestamp("2026-03-02T14:30:00.1234567890x").is_err());
    }

    #[test]
    fn formats_whole_seconds_in_utc() {
        assert_eq!(
            format_timestamp(ts("2026-01-07T12:00:00Z")),
            "2026-01-07T12:00:00Z"
        );
        assert_eq!(
            format_timestamp(ts("2026-01-07T07:00:00.999-05:00")),
            "2026-01-07T12:00:00Z"
        );
        assert_eq!(
            format_timestamp(ts("2024-02-29T23:59:59.9+00:00")),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(
            format_timestamp(ts("1969-12-31T23:59:59.5Z")),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            format_timestamp(ts("0001-01-01T00:00:00Z")),
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn formatting_agrees_with_jiff_over_many_instants() {
        let mut s: i64 = -2_208_988_800; // 1900-01-01
        while s < 4_102_444_800 {
            let t = Timestamp::from_second(s).expect("in range");
            assert_eq!(
                format_timestamp(t),
                t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            s += 86_399 * 3 + 7;
        }
    }

    #[test]
    fn rejects_times_without_offset() {
        let err = parse_timestamp("2026-01-07T12:00:00").expect_err("no offset");
        assert!(err.to_string().contains("2026-01-07T12:00:00"));
    }

    #[test]
    fn ages_are_never_negative() {
        let a = ts("2026-01-07T12:00:00Z");
        let b = ts("2026-01-07T12:00:01.5Z");
        assert_eq!(age_seconds(a, b), 1.5);
        assert_eq!(age_seconds(b, a), 0.0);
    }

    #[test]
    fn seconds_write_whole_numbers_as_integers() {
        assert_eq!(serde_json::to_string(&Seconds(60.0)).expect("ser"), "60");
        assert_eq!(serde_json::to_string(&Seconds(0.5)).expect("ser"), "0.5");
        let s: Seconds = serde_json::from_str("4.5e-05").expect("de");
        assert_eq!(s.0, 4.5e-5);
    }
}

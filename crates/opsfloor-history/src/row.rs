//! Between [`Transition`] and a `transitions` row.

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, State};

use crate::{HistoryError, Subject, Transition};

/// The columns every read selects, in [`Stored`]'s order.
pub(crate) const COLUMNS: &str = "id, service, from_state, to_state, reason_codes, at_ns";

/// Rows per multi-row `INSERT` in a batch: 5 parameters each, far below SQLite's
/// limit of 32,766, and one round trip to the connection's thread instead of 200.
pub(crate) const ROWS_PER_INSERT: usize = 200;

/// A row as read: `id, service, from_state, to_state, reason_codes, at_ns`.
pub(crate) type Stored = (i64, Option<String>, Option<String>, String, String, i64);

/// A transition ready to insert.
pub(crate) struct Encoded<'a> {
    pub(crate) service: Option<&'a str>,
    pub(crate) from: Option<&'static str>,
    pub(crate) to: &'static str,
    pub(crate) reason_codes: String,
    pub(crate) at_ns: i64,
}

impl<'a> Encoded<'a> {
    /// Checks and encodes `t`; fails only when its instant cannot be stored.
    pub(crate) fn new(t: &'a Transition, location: &str) -> Result<Encoded<'a>, HistoryError> {
        let codes = t
            .reason_codes
            .iter()
            .map(|c| serde_json::Value::String(c.as_str().to_owned()))
            .collect();
        Ok(Encoded {
            service: t.subject.service_name(),
            from: t.from.map(State::as_str),
            to: t.to.as_str(),
            reason_codes: serde_json::Value::Array(codes).to_string(),
            at_ns: storable_ns(t.at, location)?,
        })
    }
}

/// `at` as Unix nanoseconds, or an error when it does not fit in 64 bits.
pub(crate) fn storable_ns(at: Timestamp, location: &str) -> Result<i64, HistoryError> {
    i64::try_from(at.as_nanosecond()).map_err(|_| HistoryError::TimestampOutOfRange {
        location: location.to_owned(),
        at,
    })
}

/// `at` as Unix nanoseconds, saturated to the storable range: for query bounds.
pub(crate) fn clamped_ns(at: Timestamp) -> i64 {
    let n = at.as_nanosecond();
    if n < i128::from(i64::MIN) {
        i64::MIN
    } else {
        i64::try_from(n).unwrap_or(i64::MAX)
    }
}

/// The subject a `service` column value stands for.
pub(crate) fn subject(service: Option<String>) -> Subject {
    service.map_or(Subject::Floor, Subject::Service)
}

/// A stored state's wire name back to a [`State`].
pub(crate) fn state(name: &str, id: i64, location: &str) -> Result<State, HistoryError> {
    State::from_wire(name).ok_or_else(|| corrupt(location, id, format!("unknown state {name:?}")))
}

/// Stored Unix nanoseconds back to an instant.
pub(crate) fn instant(at_ns: i64, id: i64, location: &str) -> Result<Timestamp, HistoryError> {
    Timestamp::from_nanosecond(i128::from(at_ns))
        .map_err(|e| corrupt(location, id, format!("instant {at_ns}: {e}")))
}

/// A stored JSON array of reason codes back to codes (unknown ones kept verbatim).
pub(crate) fn reason_codes(
    text: &str,
    id: i64,
    location: &str,
) -> Result<Vec<ReasonCode>, HistoryError> {
    let codes: Vec<String> = serde_json::from_str(text)
        .map_err(|e| corrupt(location, id, format!("reason codes {text:?}: {e}")))?;
    Ok(codes.iter().map(|c| ReasonCode::from_wire(c)).collect())
}

/// Decodes a row read with [`COLUMNS`].
pub(crate) fn decode(row: Stored, location: &str) -> Result<Transition, HistoryError> {
    let (id, service, from, to, codes_text, at_ns) = row;
    let codes = reason_codes(&codes_text, id, location)?;
    Ok(Transition {
        subject: subject(service),
        from: from.map(|f| state(&f, id, location)).transpose()?,
        to: state(&to, id, location)?,
        reason_codes: codes,
        at: instant(at_ns, id, location)?,
    })
}

fn corrupt(location: &str, id: i64, detail: String) -> HistoryError {
    HistoryError::Corrupt {
        location: location.to_owned(),
        id,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transition_survives_encoding() {
        let t = Transition {
            subject: Subject::Service("gamma-strategy".into()),
            from: Some(State::Ok),
            to: State::Halted,
            reason_codes: vec![
                ReasonCode::KillSwitch,
                ReasonCode::from_wire("FROM_THE_FUTURE,WITH \"QUOTES\""),
            ],
            at: "2026-01-07T15:00:00.123456789Z".parse().expect("timestamp"),
        };
        let path = ":memory:";
        let e = Encoded::new(&t, path).expect("encodes");
        let stored: Stored = (
            7,
            e.service.map(str::to_owned),
            e.from.map(str::to_owned),
            e.to.to_owned(),
            e.reason_codes.clone(),
            e.at_ns,
        );
        assert_eq!(decode(stored, path).expect("decodes"), t);
    }

    #[test]
    fn instants_outside_64_bit_nanoseconds_are_refused_or_clamped() {
        let far: Timestamp = "2500-01-01T00:00:00Z".parse().expect("timestamp");
        let path = "h.db";
        let err = storable_ns(far, path).expect_err("out of range");
        assert!(
            err.to_string().starts_with("history database h.db:"),
            "{err}"
        );
        assert_eq!(clamped_ns(far), i64::MAX);
        assert_eq!(clamped_ns(Timestamp::MIN), i64::MIN);
        assert_eq!(clamped_ns(Timestamp::UNIX_EPOCH), 0);
    }

    #[test]
    fn unreadable_rows_are_reported_with_their_id() {
        let path = "h.db";
        let row: Stored = (3, None, None, "SIDEWAYS".into(), "[]".into(), 0);
        let err = decode(row, path).expect_err("corrupt");
        assert_eq!(
            err.to_string(),
            "history database h.db: transition 3 is unreadable: unknown state \"SIDEWAYS\""
        );
        let row: Stored = (4, None, None, "OK".into(), "KILL_SWITCH".into(), 0);
        assert!(decode(row, path).is_err());
    }
}

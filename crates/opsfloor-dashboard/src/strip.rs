//! State strips: a subject's states over a window as one row of SVG rectangles.
//!
//! Geometry is integer arithmetic in tenths of a unit on a 1000-unit-wide view box,
//! so adjacent rectangles tile exactly and the same transitions always give the same
//! bytes. A state that lasted only moments still gets a minimum width, taken from its
//! neighbours, so a short HALTED never disappears from the picture.

use std::fmt::Write as _;

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, State};

use crate::clock::Zone;
use crate::words::{codes_text, escape, look, span};

/// The view box's width, in units.
pub const WIDTH: i64 = 1000;
/// The view box's width, in tenths of a unit.
const WIDTH_TENTHS: i64 = WIDTH * 10;
/// The narrowest a segment is drawn, in tenths of a unit (0.1% of the width).
pub const MIN_TENTHS: i64 = 10;

/// A state in force from an instant on (a transition's "to" side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// From when.
    pub at: Timestamp,
    /// The state.
    pub state: State,
    /// Its reason codes.
    pub codes: Vec<ReasonCode>,
}

/// One stretch of time in one state; `state: None` when nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Start, inclusive.
    pub from: Timestamp,
    /// End, exclusive.
    pub to: Timestamp,
    /// The state, if known.
    pub state: Option<State>,
    /// Its reason codes.
    pub codes: Vec<ReasonCode>,
}

/// The segments that cover `[from, to)`, given `marks` in ascending time order: the
/// state in force at `from` is the last mark at or before it (unknown if none); each
/// later mark inside the window starts a new segment. Neighbours in the same state
/// with the same codes are merged; empty segments are dropped.
pub fn segments(marks: &[Mark], from: Timestamp, to: Timestamp) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    if to <= from {
        return out;
    }
    let mut current: Option<&Mark> = marks.iter().rev().find(|m| m.at <= from);
    let mut cursor = from;
    let push = |out: &mut Vec<Segment>, start: Timestamp, end: Timestamp, m: Option<&Mark>| {
        if end <= start {
            return;
        }
        let (state, codes) = match m {
            Some(m) => (Some(m.state), m.codes.clone()),
            None => (None, Vec::new()),
        };
        if let Some(last) = out.last_mut()
            && last.state == state
            && last.codes == codes
            && last.to == start
        {
            last.to = end;
            return;
        }
        out.push(Segment {
            from: start,
            to: end,
            state,
            codes,
        });
    };
    for m in marks.iter().filter(|m| m.at > from && m.at < to) {
        push(&mut out, cursor, m.at, current);
        current = Some(m);
        cursor = m.at;
    }
    push(&mut out, cursor, to, current);
    out
}

/// Boundaries in tenths of a unit for `segments` on a lane from `from` to `lane_end`
/// (the lane may reach past the last segment, into the future): `n + 1` values for
/// `n` segments, ascending, each segment at least [`MIN_TENTHS`] wide when that fits.
pub fn layout(segments: &[Segment], from: Timestamp, lane_end: Timestamp) -> Vec<i64> {
    let total = lane_end.as_nanosecond() - from.as_nanosecond();
    if segments.is_empty() || total <= 0 {
        return Vec::new();
    }
    let at = |t: Timestamp| -> i64 {
        let part = (t.as_nanosecond() - from.as_nanosecond()).clamp(0, total);
        // i128 arithmetic: nanoseconds times 10,000 overflows i64 for long windows.
        i64::try_from(part * i128::from(WIDTH_TENTHS) / total).unwrap_or(WIDTH_TENTHS)
    };
    let mut b: Vec<i64> = segments.iter().map(|s| at(s.from)).collect();
    b.push(segments.last().map_or(0, |s| at(s.to)));
    let n = segments.len();
    let (first, last) = (b[0], b[n]);
    if (n as i64) * MIN_TENTHS > last - first {
        return b; // too many to widen: proportional only
    }
    for i in 1..=n {
        b[i] = b[i].max(b[i - 1] + MIN_TENTHS);
    }
    b[n] = last;
    for i in (1..n).rev() {
        b[i] = b[i].min(b[i + 1] - MIN_TENTHS);
    }
    b
}

/// Tenths of a unit as a decimal: `5000` → `500.0`.
fn units(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A session to mark under a lane (market hours), as boundaries in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Start, tenths of a unit.
    pub from: i64,
    /// End, tenths of a unit.
    pub to: i64,
}

/// Where `[start, end)` falls on a lane from `from` to `lane_end`, in tenths.
pub fn band(
    start: Timestamp,
    end: Timestamp,
    from: Timestamp,
    lane_end: Timestamp,
) -> Option<Band> {
    let seg = [Segment {
        from: start.max(from),
        to: end.min(lane_end),
        state: None,
        codes: Vec::new(),
    }];
    if seg[0].to <= seg[0].from {
        return None;
    }
    let b = layout(&seg, from, lane_end);
    Some(Band {
        from: *b.first()?,
        to: *b.last()?,
    })
}

/// The time spent in each look, for a text alternative: `OK 23 h 10 min, Halted 50 min`.
pub fn summary(segments: &[Segment]) -> String {
    let mut totals: Vec<(&'static str, i64)> = Vec::new();
    for s in segments {
        let word = s
            .state
            .map_or("No record", |state| look(state, &s.codes).word);
        let secs = s.to.as_second() - s.from.as_second();
        match totals.iter_mut().find(|(w, _)| *w == word) {
            Some((_, total)) => *total += secs,
            None => totals.push((word, secs)),
        }
    }
    let parts: Vec<String> = totals
        .iter()
        .map(|(w, secs)| format!("{w} {}", span(*secs)))
        .collect();
    if parts.is_empty() {
        "nothing recorded".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The strip as inline SVG: one rectangle per segment (class `st-…` from its look,
/// `st-none` when unknown) with a `<title>` naming the state and its times, and an
/// optional market-hours band along the bottom. `label` is the accessible name.
pub fn svg(
    segments: &[Segment],
    bounds: &[i64],
    session: Option<Band>,
    zone: &Zone,
    label: &str,
) -> String {
    let mut out = String::with_capacity(200 + segments.len() * 160);
    let _ = write!(
        out,
        "<svg class=\"strip\" viewBox=\"0 0 {WIDTH} 24\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    for (i, s) in segments.iter().enumerate() {
        let (Some(x), Some(end)) = (bounds.get(i), bounds.get(i + 1)) else {
            break;
        };
        let (class, word) = match s.state {
            Some(state) => {
                let l = look(state, &s.codes);
                (l.class, l.word)
            }
            None => ("st-none", "No record"),
        };
        let codes = codes_text(&s.codes);
        let codes = if codes.is_empty() {
            String::new()
        } else {
            format!(" ({codes})")
        };
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{}\" y=\"0\" width=\"{}\" height=\"18\"><title>{}{} from {} to {}</title></rect>",
            units(*x),
            units(end - x),
            word,
            escape(&codes),
            zone.day_time(s.from),
            zone.day_time(s.to),
        );
    }
    if let Some(b) = session {
        let _ = write!(
            out,
            "<rect class=\"session\" x=\"{}\" y=\"20\" width=\"{}\" height=\"4\"><title>Market hours</title></rect>",
            units(b.from),
            units(b.to - b.from)
        );
    }
    out.push_str("</svg>");
    out
}

/// The sparkline's view box: one poll every [`SPARK_STEP`] units, [`SPARK_HEIGHT`] tall.
pub const SPARK_STEP: usize = 10;
/// The sparkline's drawing height, in units.
pub const SPARK_HEIGHT: f64 = 40.0;

/// The recent polls' latencies (`None`: no answer) as inline SVG: a line through
/// the answered polls, broken where a poll got no answer (marked along the bottom),
/// scaled to the largest latency shown. The accessible name gives the numbers.
pub fn sparkline(latencies: &[Option<f64>]) -> String {
    let answered: Vec<f64> = latencies
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let max = answered.iter().copied().fold(0.0_f64, f64::max);
    let label = spark_label(latencies.len(), &answered, max);
    let width = (latencies.len().max(2) - 1) * SPARK_STEP;
    let mut out = format!(
        "<svg class=\"spark\" viewBox=\"0 0 {width} {}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        SPARK_HEIGHT + 4.0,
        escape(&label),
        escape(&label)
    );
    let mut run: Vec<String> = Vec::new();
    let flush = |out: &mut String, run: &mut Vec<String>| {
        if !run.is_empty() {
            let _ = write!(out, "<polyline points=\"{}\"/>", run.join(" "));
            run.clear();
        }
    };
    for (i, v) in latencies.iter().enumerate() {
        let x = i * SPARK_STEP;
        match v.filter(|v| v.is_finite()) {
            Some(ms) => {
                let y = if max > 0.0 {
                    SPARK_HEIGHT * (1.0 - ms / max)
                } else {
                    SPARK_HEIGHT
                };
                run.push(format!("{x},{y:.1}"));
            }
            None => {
                flush(&mut out, &mut run);
                let _ = write!(
                    out,
                    "<rect class=\"gap\" x=\"{x}\" y=\"{}\" width=\"3\" height=\"4\"/>",
                    SPARK_HEIGHT
                );
            }
        }
    }
    flush(&mut out, &mut run);
    out.push_str("</svg>");
    out
}

/// `Latency over the last 60 polls: 1.2 to 9.8 ms, median 2.0 ms; 3 without answer`.
fn spark_label(polls: usize, answered: &[f64], max: f64) -> String {
    let mut sorted = answered.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut out = format!(
        "Latency over the last {polls} poll{}",
        if polls == 1 { "" } else { "s" }
    );
    match (sorted.first(), sorted.get(sorted.len() / 2)) {
        (Some(min), Some(median)) => {
            let _ = write!(out, ": {min:.1} to {max:.1} ms, median {median:.1} ms");
        }
        _ => out.push_str(": no answer"),
    }
    let missed = polls - answered.len();
    if missed > 0 && !answered.is_empty() {
        let _ = write!(out, "; {missed} without answer");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn mark(at: &str, state: State) -> Mark {
        Mark {
            at: ts(at),
            state,
            codes: Vec::new(),
        }
    }

    const FROM: &str = "2026-01-07T00:00:00Z";
    const TO: &str = "2026-01-08T00:00:00Z";

    #[test]
    fn the_state_in_force_fills_the_window_start() {
        let marks = [
            mark("2026-01-06T12:00:00Z", State::Ok),
            mark("2026-01-07T12:00:00Z", State::Halted),
            mark("2026-01-09T00:00:00Z", State::Degraded), // after the window: ignored
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].from, s[0].to, s[0].state),
            (ts(FROM), ts("2026-01-07T12:00:00Z"), Some(State::Ok))
        );
        assert_eq!(
            (s[1].from, s[1].to, s[1].state),
            (ts("2026-01-07T12:00:00Z"), ts(TO), Some(State::Halted))
        );
        assert_eq!(layout(&s, ts(FROM), ts(TO)), [0, 5_000, 10_000]);
    }

    #[test]
    fn unknown_before_the_first_mark_and_same_instants() {
        let marks = [
            mark("2026-01-07T06:00:00Z", State::Ok),
            mark("2026-01-07T18:00:00Z", State::Halted),
            mark("2026-01-07T18:00:00Z", State::Offline), // the later one wins
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        let states: Vec<Option<State>> = s.iter().map(|s| s.state).collect();
        assert_eq!(states, [None, Some(State::Ok), Some(State::Offline)]);
        assert_eq!(layout(&s, ts(FROM), ts(TO)), [0, 2_500, 7_500, 10_000]);
        assert!(segments(&[], ts(TO), ts(FROM)).is_empty());
        let empty = segments(&[], ts(FROM), ts(TO));
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].state, None);
    }

    #[test]
    fn neighbours_in_the_same_state_merge() {
        let marks = [
            mark("2026-01-07T06:00:00Z", State::Ok),
            mark("2026-01-07T07:00:00Z", State::Ok),
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].from, ts("2026-01-07T06:00:00Z"));
    }

    #[test]
    fn a_moment_still_gets_the_minimum_width_and_the_strip_tiles() {
        let marks = [
            mark("2026-01-06T00:00:00Z", State::Ok),
            mark("2026-01-07T12:00:00Z", State::Halted),
            mark("2026-01-07T12:00:01Z", State::Ok),
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        let b = layout(&s, ts(FROM), ts(TO));
        assert_eq!(b.len(), s.len() + 1);
        assert_eq!((b[0], b[3]), (0, WIDTH_TENTHS));
        assert!(b.windows(2).all(|w| w[1] - w[0] >= MIN_TENTHS), "{b:?}");
        assert_eq!(b[1], 5_000);
        assert_eq!(b[2], 5_010);
    }

    #[test]
    fn a_moment_at_the_very_end_takes_its_width_from_the_left() {
        let marks = [
            mark("2026-01-06T00:00:00Z", State::Ok),
            mark("2026-01-07T23:59:59Z", State::Halted),
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        assert_eq!(layout(&s, ts(FROM), ts(TO)), [0, 9_990, 10_000]);
    }

    #[test]
    fn a_lane_reaching_into_the_future_stops_at_now() {
        let marks = [mark("2026-01-06T00:00:00Z", State::MarketClosed)];
        let now = ts("2026-01-07T06:00:00Z");
        let s = segments(&marks, ts(FROM), now);
        assert_eq!(layout(&s, ts(FROM), ts(TO)), [0, 2_500]);
        assert_eq!(
            band(
                ts("2026-01-07T14:30:00Z"),
                ts("2026-01-07T21:00:00Z"),
                ts(FROM),
                ts(TO)
            ),
            Some(Band {
                from: 6_041,
                to: 8_750
            })
        );
        assert_eq!(
            band(ts(TO), ts("2026-01-08T01:00:00Z"), ts(FROM), ts(TO)),
            None
        );
    }

    #[test]
    fn too_many_moments_fall_back_to_proportional() {
        let marks: Vec<Mark> = (0..2_000)
            .map(|i| {
                let at = ts(FROM) + jiff::SignedDuration::from_secs(i * 10);
                mark(
                    &at.to_string(),
                    if i % 2 == 0 { State::Ok } else { State::Halted },
                )
            })
            .collect();
        let s = segments(&marks, ts(FROM), ts(TO));
        let b = layout(&s, ts(FROM), ts(TO));
        assert_eq!(b.len(), s.len() + 1);
        assert!(b.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(b.last(), Some(&WIDTH_TENTHS));
    }

    #[test]
    fn the_svg_is_exact_and_escaped() {
        let zone = Zone::of(&opsfloor_contract::Calendar::nyse());
        let marks = [
            mark("2026-01-06T00:00:00Z", State::Ok),
            Mark {
                at: ts("2026-01-07T12:00:00Z"),
                state: State::Halted,
                codes: vec![ReasonCode::KillSwitch],
            },
        ];
        let s = segments(&marks, ts(FROM), ts(TO));
        let b = layout(&s, ts(FROM), ts(TO));
        let svg = svg(&s, &b, None, &zone, "<x> over 24 h");
        assert!(
            svg.starts_with("<svg class=\"strip\" viewBox=\"0 0 1000 24\""),
            "{svg}"
        );
        assert!(svg.contains("aria-label=\"&#60;x&#62; over 24 h\""));
        assert!(svg.contains("<rect class=\"st-ok\" x=\"0.0\" y=\"0\" width=\"500.0\""));
        assert!(svg.contains("<rect class=\"st-halted\" x=\"500.0\" y=\"0\" width=\"500.0\""));
        assert!(svg.contains("<title>Halted (KILL_SWITCH) from Wed 7 Jan 07:00 EST to Wed 7 Jan 19:00 EST</title>"), "{svg}");
        assert_eq!(summary(&s), "OK 12 h 00 min, Halted 12 h 00 min");
    }

    #[test]
    fn the_sparkline_breaks_where_a_poll_got_no_answer_and_scales_to_the_largest() {
        let svg = sparkline(&[Some(2.0), Some(4.0), None, Some(1.0), Some(3.0)]);
        assert!(
            svg.starts_with("<svg class=\"spark\" viewBox=\"0 0 40 44\""),
            "{svg}"
        );
        assert_eq!(svg.matches("<polyline ").count(), 2, "{svg}");
        assert!(
            svg.contains("<polyline points=\"0,20.0 10,0.0\"/>"),
            "{svg}"
        );
        assert!(svg.contains("<rect class=\"gap\" x=\"20\""), "{svg}");
        assert!(
            svg.contains("aria-label=\"Latency over the last 5 polls: 1.0 to 4.0 ms, median 3.0 ms; 1 without answer\""),
            "{svg}"
        );
        let none = sparkline(&[None]);
        assert!(
            none.contains("Latency over the last 1 poll: no answer"),
            "{none}"
        );
        assert!(!none.contains("<polyline"), "{none}");
    }
}

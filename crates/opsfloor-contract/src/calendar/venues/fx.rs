//! Spot FX (`FX`): one continuous week from Sunday 17:00 to Friday 17:00 New York
//! time, the convention of the interbank market.
//!
//! Each weekday's session runs from 17:00 the evening before to 17:00 on its date,
//! so the sessions touch and the table merges them into one open span per week:
//! the market closes once, on Friday at 17:00. No holidays: liquidity thins on
//! Christmas and New Year's Day but the market does not close (add an operator
//! closure where a desk treats those days as closed).

use jiff::civil::{Date, Time, date, time};

use crate::calendar::rules::{Hours, Rule, Venue, is_weekend};

/// Spot FX.
#[derive(Debug)]
pub struct Fx;

const ROLL: Time = time(17, 0, 0, 0);

impl Venue for Fx {
    fn name(&self) -> &'static str {
        "FX"
    }
    fn zone(&self) -> &'static str {
        "America/New_York"
    }
    fn supported(&self) -> (Date, Date) {
        (date(1990, 1, 1), date(2040, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        Rule::Session(Hours {
            open_days_before: 1,
            ..Hours::day(ROLL, ROLL)
        })
    }
    fn early_close(&self, _day: Date) -> Time {
        time(13, 0, 0, 0)
    }
}

#!/usr/bin/env python3
"""Generate <mic>-sessions.csv for the venues opsfloor matches exactly, 2000-01-01..2035-12-31.

Test-data generator only; opsfloor does not use exchange_calendars at run time.

    pip install exchange-calendars==4.13.2   # produced with pandas==3.1.1, numpy==2.4.6, Python 3.11.7
    python3 generate_venue_sessions.py            # every venue
    python3 generate_venue_sessions.py XTKS XHKG  # some

Columns: date,open_utc,close_utc,break_start_utc,break_end_utc. `date` is the
session label (the venue's local date), instants are RFC 3339 UTC with whole
seconds and `Z`, the break columns are empty when the session has no break.
"""
import sys
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd

START, END = "2000-01-01", "2035-12-31"
VENUES = ["XLON", "XETR", "XTKS", "XHKG", "XTSE", "XASX", "CMES"]
FMT = "%Y-%m-%dT%H:%M:%SZ"


def stamp(t) -> str:
    return "" if pd.isna(t) else t.tz_convert("UTC").strftime(FMT)


def main() -> None:
    for mic in sys.argv[1:] or VENUES:
        cal = xcals.get_calendar(mic, start=START, end=END)
        lines = ["date,open_utc,close_utc,break_start_utc,break_end_utc"]
        for s in cal.sessions:
            row = [
                f"{s:%Y-%m-%d}",
                stamp(cal.session_open(s)),
                stamp(cal.session_close(s)),
                stamp(cal.session_break_start(s)),
                stamp(cal.session_break_end(s)),
            ]
            lines.append(",".join(row))
        out = Path(__file__).with_name(f"{mic.lower()}-sessions.csv")
        with out.open("w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{mic}: wrote {len(lines) - 1} sessions to {out.name}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate nyse-sessions.csv (NYSE regular sessions, 1990-01-01..2040-12-31).

Test-data generator only; opsfloor does not use exchange_calendars at run time.

    pip install exchange-calendars==4.13.2   # produced with pandas==3.1.1, numpy==2.4.6, Python 3.11.7
    python3 generate_nyse_sessions.py
"""
from pathlib import Path

import exchange_calendars as xcals

START, END = "1990-01-01", "2040-12-31"
OUT = Path(__file__).with_name("nyse-sessions.csv")


def main() -> None:
    cal = xcals.get_calendar("XNYS", start=START, end=END)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    lines = ["date,open_utc,close_utc"]
    for session in cal.sessions:
        o = cal.session_open(session).tz_convert("UTC")
        c = cal.session_close(session).tz_convert("UTC")
        lines.append(f"{session:%Y-%m-%d},{o.strftime(fmt)},{c.strftime(fmt)}")
    with OUT.open("w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 1} sessions to {OUT}")


if __name__ == "__main__":
    main()

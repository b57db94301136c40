#!/usr/bin/env bash
# Issue 5's budget: first contentful paint of the floor page on loopback ≤ 500 ms in
# headless chromium, for a floor of 1,000 services (and a small one for contrast).
# Runs the ignored `fcp_benchmark` test of crates/opsfloor-dashboard/tests/browser.rs
# in release: a synthetic floor served over loopback (the page rendered on every
# request, as `/` is), loaded N times in one headless chromium; prints the median,
# min, max, the first (cold) load, and when the response had fully arrived.
# Usage: bench/dashboard-fcp.sh [--loads 15]
# Needs chromium ($OPSFLOOR_CHROMIUM or on the PATH): ./scripts/test installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
loads=15
while [ $# -gt 0 ]; do
  case "$1" in
    --loads) loads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! OPSFLOOR_FCP_LOADS=$loads cargo test --release -q -p opsfloor-dashboard --test browser \
  -- --ignored --exact fcp_benchmark --nocapture >"$out" 2>&1; then
  cat "$out" >&2
  exit 1
fi
grep -E '^fcp:' "$out"

#!/usr/bin/env bash
# Alert latency budgets of issue 12, measured over loopback with the alerts crate:
#  - transition -> POST at each sink (Alertmanager API, signed webhook): 200 runs;
#  - transition -> a real Alertmanager (group_wait 1s) -> its webhook receiver: 20 runs.
# Needs Debian's prometheus-alertmanager (./scripts/test installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -p opsfloor-alerts --test latency -- --nocapture 2>&1 | grep -E "sink:"
cargo test --release -p opsfloor-alerts --test alertmanager bench_ -- --ignored --nocapture 2>&1 \
  | grep -E "receiver:"

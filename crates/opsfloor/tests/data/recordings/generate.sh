#!/usr/bin/env bash
# Regenerates the recorded fleets the report's golden tests replay.
# Each runs `opsfloor fleet` in one scenario on loopback and records one report.
# Usage (from the repository root): crates/opsfloor/tests/data/recordings/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
root=$(git rev-parse --show-toplevel)
cargo build -q -p opsfloor --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/opsfloor"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

record() { # name scenario now
  local name=$1 scenario=$2 now=$3
  RUST_LOG=warn "$bin" fleet --base-port 9400 --dir "$work/$name" --now "$now" --scenario "$scenario" \
    --write-inventory "$work/$name.toml" >/dev/null 2>&1 &
  local pid=$!
  sleep 2.5 # let strategies learn a tick from marketdata over HTTP
  cp "$work/$name.toml" "$work/inventory.toml"
  (cd "$work" && "$bin" report --config inventory.toml --now "$now" --record "$work/rec.json" --quiet >/dev/null) || true
  # The heartbeat age and tick times depend on when the poll landed: keep them as received.
  mv "$work/rec.json" "$name.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

record ok normal 2026-01-07T15:00:00Z
record market-closed normal 2026-01-07T22:00:00Z
record stale-marketdata stale-marketdata 2026-01-07T15:00:00Z
record kill-switch kill-switch 2026-01-07T15:00:00Z
record execution-disabled execution-disabled 2026-01-07T15:00:00Z
record service-down service-down 2026-01-07T15:00:00Z
# Malformed services, added to the OK fleet: a document lacking required fields,
# an answer that is no JSON, and one that never answers.
python3 - <<'PY'
import json
r = json.load(open("ok.json"))
r["inventory"]["text"] += (
    '\n[[services]]\nname = "legacy-risk"\nkind = "ops"\nurl = "http://127.0.0.1:9410"\ncriticality = "important"\n'
    '\n[[services]]\nname = "broken-feed"\nkind = "marketdata"\nurl = "http://127.0.0.1:9411"\ncriticality = "optional"\n'
    '\n[[services]]\nname = "ghost"\nkind = "ingest"\nurl = "http://127.0.0.1:9412"\ncriticality = "optional"\n'
)
r["responses"] += [
    {"service_name": "legacy-risk", "outcome": "document",
     "body": {"service_kind": "ops", "repo_id": "", "status": {"state": "GREEN"}, "api_token": "s3cr3t"}},
    {"service_name": "broken-feed", "outcome": "untrusted", "problem": "HTTP 200 OK: not JSON: malformed JSON at line 1, column 1: expected value"},
    {"service_name": "ghost", "outcome": "no_answer", "error": "connection failed: Connection refused (os error 111)"},
]
json.dump(r, open("broken.json", "w"), indent=2)
open("broken.json", "a").write("\n")
PY
echo "recorded: $(ls *.json | tr '\n' ' ')"

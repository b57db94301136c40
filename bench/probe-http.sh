#!/usr/bin/env bash
# Load test of GET /ops/status (issue 3's budget): wrk, 32 connections, against
#   1. `opsfloor probe` (the probe's axum router, document built per request), and
#   2. nginx serving a static file of the same bytes (the practical ceiling).
# Loopback only; each run is bounded by --duration. Prints a markdown table row per server.
#
# Usage: bench/probe-http.sh [--duration 10s] [--connections 32] [--threads 1]
# One wrk thread by default: on a 2-core machine it leaves a core for the server under test.
# Needs: wrk and nginx (Debian: apt-get install wrk nginx-light); builds opsfloor --release.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10s connections=32 threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench/probe-http.sh: $tool is missing (apt-get install wrk nginx-light curl)" >&2; exit 69; }
done

cargo build --release -q -p opsfloor
work=$(mktemp -d)
probe_port=19180 nginx_port=19181
cleanup() { kill "${probe_pid:-}" 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

SERVICE_NAME=marketdata-mcp-server SERVICE_KIND=marketdata REPO_ID=RichKingsASU/agent-trader-v2 \
  GIT_SHA=abc123 AGENT_MODE=STREAM RUST_LOG=warn \
  target/release/opsfloor probe --listen 127.0.0.1:$probe_port --now 2026-01-07T15:00:00Z >/dev/null &
probe_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$probe_port/health" >/dev/null && break; sleep 0.1; done

# nginx: the same bytes, as a static file, with the same headers.
mkdir -p "$work/ops"
curl -sf "http://127.0.0.1:$probe_port/ops/status" > "$work/ops/status"
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /ops/status {
      root $work;
      default_type application/json;
      add_header Cache-Control no-store;
    }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$nginx_port/ops/status" >/dev/null && break; sleep 0.1; done

run() {
  local name=$1 url=$2 out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "| $name | $rps | $p50 | $p99 |"
  echo "$rps" > "$work/$name.rps"
}

echo "bytes per response: $(wc -c < "$work/ops/status")"
echo "| server | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
run opsfloor-probe "http://127.0.0.1:$probe_port/ops/status"
run nginx-static "http://127.0.0.1:$nginx_port/ops/status"
awk -v a="$(cat "$work/opsfloor-probe.rps")" -v b="$(cat "$work/nginx-static.rps")" \
  'BEGIN { printf "probe / nginx: %.0f%%\n", 100 * a / b }'

#!/usr/bin/env bash
# The floor engine's budgets (issue 9), against real, distinct endpoints: nginx
# listens on one loopback port per service and answers each port with that
# service's own status document (`service_name` = `svc-<port>`), so every poll is
# its own connection to its own socket, as on a real floor.
#
#   scale   10,000 services, interval 5 s: RSS, CPU, the oldest result's age (every
#           service polled within interval + 1 s), the first complete view after
#           start, the size of /metrics.
#   gaps    1,000 services, interval 1 s, while two `wrk -t1 -c32` load /metrics and
#           /api/v1/services for 20 s: the gap between two polls of one service, timed
#           where the service receives them (nginx's access log, $msec).
#   api     /api/v1/services at 1,000 services: `wrk -t1 -c32 -d10s --latency`.
#
# Usage: bench/floor.sh [scale|gaps|api|all] (default all). Needs nginx, wrk, curl,
# jq (installs nginx and wrk from Debian if missing). Builds opsfloor --release.
# Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
for pkg in nginx wrk; do
  command -v "$pkg" >/dev/null || { apt-get install -y -qq "$pkg" >/dev/null; }
done
for tool in curl jq nginx wrk; do
  command -v "$tool" >/dev/null || { echo "bench/floor.sh: $tool is missing" >&2; exit 69; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # nginx needs one descriptor per port, plus its connections

cargo build --release -q -p opsfloor
bin=$PWD/target/release/opsfloor
work=$(mktemp -d)
floor_pid=
nginx_pid=
cleanup() {
  [ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base_port=20000 # below the ephemeral range (32768+), so no client socket holds one
floor_port=19999
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# nginx on N ports, each answering its own document; with an access log of
# "port msec" lines when $2 = log.
start_nginx() { # N [log]
  local n=$1 log=${2:-}
  mkdir -p "$work/nginx/logs"
  {
    echo "worker_processes 1; worker_rlimit_nofile 19500; error_log $work/nginx/error.log warn; pid $work/nginx/nginx.pid;"
    echo "events { worker_connections 19000; }"
    echo "http {"
    if [ "$log" = log ]; then
      echo "  log_format t '\$server_port \$msec'; access_log $work/nginx/access.log t buffer=256k flush=1s;"
    else
      echo "  access_log off;"
    fi
    echo "  keepalive_timeout 60s; keepalive_requests 100000; default_type application/json;"
    echo "  server {"
    for i in $(seq 0 $((n - 1))); do echo "    listen 127.0.0.1:$((base_port + i));"; done
    echo "    location = /ops/status { return 200 '{\"service_name\":\"svc-\$server_port\",\"service_kind\":\"ops\",\"repo_id\":\"desk/bench\",\"git_sha\":\"abc123\",\"build_id\":null,\"agent_identity\":{\"agent_name\":\"svc-\$server_port\",\"agent_role\":\"ops\",\"agent_mode\":\"WATCH\"},\"status\":{\"state\":\"OK\",\"summary\":\"Healthy\",\"reason_codes\":[],\"last_updated_utc\":\"2026-01-07T15:00:00Z\"},\"heartbeat\":{\"last_heartbeat_utc\":null,\"age_seconds\":null,\"ttl_seconds\":null},\"marketdata\":{\"last_tick_utc\":null,\"last_bar_utc\":null,\"stale_threshold_seconds\":null,\"is_fresh\":null},\"safety\":{\"kill_switch\":false,\"safe_to_run_strategies\":true,\"safe_to_execute_orders\":false,\"gating_reasons\":[]},\"endpoints\":{\"healthz\":\"/health\",\"heartbeat\":null,\"metrics\":null}}'; }"
    echo "  }"
    echo "}"
  } >"$work/nginx/nginx.conf"
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((base_port + n - 1))/ops/status" >/dev/null && return; sleep 0.1; done
  echo "nginx did not start" >&2; cat "$work/nginx/error.log" >&2; exit 70
}

stop_nginx() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=; }

inventory() { # N INTERVAL_MS > file
  printf '[floor]\nname = "bench"\ncalendar = "always-open"\npoll_interval_ms = %d\ntimeout_ms = 1500\n' "$2"
  awk -v n="$1" -v base="$base_port" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "\n[[services]]\nname = \"svc-%d\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:%d\"\ncriticality = \"%s\"\n",
        base + i, base + i, (i % 100 ? "important" : "critical")
    }
  }'
}

start_floor() { # inventory
  "$bin" serve --config "$1" --no-history --listen "127.0.0.1:$floor_port" \
    >"$work/floor.out" 2>"$work/floor.err" &
  floor_pid=$!
  started=$(date +%s.%N)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$floor_port/health" >/dev/null && return; sleep 0.05; done
  echo "the floor did not start" >&2; cat "$work/floor.err" >&2; exit 70
}

stop_floor() { kill "$floor_pid" 2>/dev/null || true; wait "$floor_pid" 2>/dev/null || true; floor_pid=; }

floor_json() { curl -sf "http://127.0.0.1:$floor_port/api/v1/floor"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

scale() {
  local n=10000 interval_ms=5000 window=60
  echo "== scale: $n services on $n ports, interval ${interval_ms} ms"
  start_nginx "$n"
  inventory "$n" "$interval_ms" >"$work/inv.toml"
  start_floor "$work/inv.toml"
  # The first complete view: every polled service has a result.
  while [ "$(floor_json | jq -r '.oldest_result_age_seconds // "null"')" = null ]; do sleep 0.05; done
  first=$(echo "$(date +%s.%N) - $started" | bc)
  sleep 10 # settle: connections and allocations after the first round
  local t0 c0 worst=0 ok
  t0=$(date +%s.%N); c0=$(cpu_ticks "$floor_pid")
  for _ in $(seq "$window"); do
    age=$(floor_json | jq -r '.oldest_result_age_seconds')
    worst=$(echo "if ($age > $worst) $age else $worst" | bc)
    sleep 1
  done
  local t1 c1
  t1=$(date +%s.%N); c1=$(cpu_ticks "$floor_pid")
  cpu=$(echo "scale=1; 100 * ($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0)" | bc)
  ok=$(floor_json | jq -r '.counts.OK')
  metrics=$(curl -sf "http://127.0.0.1:$floor_port/metrics" | wc -c)
  echo "services OK: $ok of $n"
  echo "first complete view: ${first} s after start"
  echo "oldest result, worst over ${window} s: ${worst} s (budget: interval + 1 s = $((interval_ms / 1000 + 1)) s)"
  echo "RSS: $(rss_mb "$floor_pid") MB (peak $(hwm_mb "$floor_pid") MB)"
  echo "CPU: ${cpu}% of one core"
  echo "/metrics: $metrics bytes"
  stop_floor; stop_nginx
}

gaps() {
  local n=1000 interval_ms=1000
  echo "== gaps: $n services, interval ${interval_ms} ms, two wrk -t1 -c32 for 20 s"
  start_nginx "$n" log
  inventory "$n" "$interval_ms" >"$work/inv.toml"
  start_floor "$work/inv.toml"
  sleep 5
  : >"$work/nginx/access.log"
  wrk -t1 -c32 -d20s "http://127.0.0.1:$floor_port/metrics" >"$work/wrk-metrics.txt" &
  local w1=$!
  wrk -t1 -c32 -d20s "http://127.0.0.1:$floor_port/api/v1/services" >"$work/wrk-services.txt" &
  local w2=$!
  wait "$w1" "$w2"
  sleep 2 # nginx flushes its log every second
  awk '{ if ($1 in last) print $2 - last[$1]; last[$1] = $2 }' "$work/nginx/access.log" | sort -n >"$work/gaps.txt"
  local count p99 max
  count=$(wc -l <"$work/gaps.txt")
  p99=$(awk -v n="$count" 'NR == int(n * 0.99) { print; exit }' "$work/gaps.txt")
  max=$(tail -1 "$work/gaps.txt")
  echo "gaps measured: $count; p99 ${p99} s; max ${max} s (budgets: p99 ≤ 1.1 s, max ≤ 1.6 s)"
  echo "wrk /metrics:          $(grep -E '^Requests/sec' "$work/wrk-metrics.txt")"
  echo "wrk /api/v1/services:  $(grep -E '^Requests/sec' "$work/wrk-services.txt")"
  stop_floor; stop_nginx
}

api() {
  local n=1000
  echo "== api: /api/v1/services at $n services"
  start_nginx "$n"
  inventory "$n" 5000 >"$work/inv.toml"
  start_floor "$work/inv.toml"
  while [ "$(floor_json | jq -r '.oldest_result_age_seconds // "null"')" = null ]; do sleep 0.1; done
  wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$floor_port/api/v1/services" >"$work/wrk.txt"
  grep -E '^Requests/sec|^ +99%' "$work/wrk.txt"
  echo "body: $(curl -sf "http://127.0.0.1:$floor_port/api/v1/services" | wc -c) bytes"
  stop_floor; stop_nginx
}

case "$mode" in
  scale) scale ;;
  gaps) gaps ;;
  api) api ;;
  all) scale; gaps; api ;;
  *) echo "usage: bench/floor.sh [scale|gaps|api|all]" >&2; exit 64 ;;
esac
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

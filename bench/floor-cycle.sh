#!/usr/bin/env bash
# Poll-cycle benchmark of the floor aggregator (issue 4's budgets):
#   one cycle over 1,000 services ≤ 100 ms, over 10,000 ≤ 1 s, RSS ≤ 150 MB at 10,000.
#
# Starts K `opsfloor probe` processes on loopback and writes inventories of N services
# spread round-robin over their URLs: services share URLs (10,000 processes are not
# sensible), but every inventory entry is polled separately, as its own request, on
# the floor's one keep-alive client. For each (N, max_in_flight) it runs
# `opsfloor serve --no-history` with a 2 s poll interval (cycles never overlap),
# reads `last_cycle_ms` from /api/v1/floor after every cycle, and reports the first
# (cold: connections being opened) cycle and min/median/max of the next --cycles
# warm ones, the floor's CPU time per warm cycle (utime+stime from /proc, which also
# covers work done after `last_cycle_ms` is taken: metrics, API), and VmRSS/VmHWM.
# Loopback only; every process it starts is stopped on exit. About 1 minute.
#
# Usage: bench/floor-cycle.sh [--probes 10] [--cycles 5] [--sizes "1000 10000"]
#                             [--in-flight "64 256"] [--interval-ms 2000]
# Needs: curl, jq. Builds opsfloor --release.
set -euo pipefail
cd "$(dirname "$0")/.."

probes=10 cycles=5 sizes="1000 10000" in_flight="64 256" interval_ms=2000
base_port=19300 floor_port=19299
while [ $# -gt 0 ]; do
  case "$1" in
    --probes) probes=$2; shift 2 ;;
    --cycles) cycles=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --in-flight) in_flight=$2; shift 2 ;;
    --interval-ms) interval_ms=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "bench/floor-cycle.sh: $tool is missing" >&2; exit 69; }
done

cargo build --release -q -p opsfloor
bin=target/release/opsfloor
work=$(mktemp -d)
pids=()
floor_pid=
cleanup() {
  [ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# K probes, kinds ingest and ops (the market's hours change their state, not the polling).
for i in $(seq 0 $((probes - 1))); do
  port=$((base_port + i))
  kind=ingest; [ $((i % 2)) -eq 1 ] && kind=ops
  SERVICE_NAME="bench-probe-$i" SERVICE_KIND=$kind REPO_ID=opsfloor/bench RUST_LOG=warn \
    "$bin" probe --listen "127.0.0.1:$port" >/dev/null 2>"$work/probe-$i.log" &
  pids+=($!)
done
for i in $(seq 0 $((probes - 1))); do
  port=$((base_port + i))
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "probe on $port did not start" >&2; exit 70; }
done

inventory() { # N MAX_IN_FLIGHT > file
  local n=$1 mif=$2
  printf '[floor]\nname = "bench"\ncalendar = "always-open"\npoll_interval_ms = %d\ntimeout_ms = 2000\nmax_in_flight = %d\nfailure_threshold = 3\n' \
    "$interval_ms" "$mif"
  awk -v n="$n" -v k="$probes" -v base="$base_port" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "\n[[services]]\nname = \"svc-%05d\"\nkind = \"%s\"\nurl = \"http://127.0.0.1:%d\"\ncriticality = \"%s\"\n",
        i, (i % 2 ? "ops" : "ingest"), base + i % k, (i % 10 ? "important" : "optional")
    }
  }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

results=()
run() { # N MAX_IN_FLIGHT
  local n=$1 mif=$2 inv="$work/inventory-$1-$2.toml"
  inventory "$n" "$mif" > "$inv"
  RUST_LOG=warn "$bin" serve --config "$inv" --listen "127.0.0.1:$floor_port" --no-history \
    >/dev/null 2>"$work/floor-$n-$mif.log" &
  floor_pid=$!
  local api="http://127.0.0.1:$floor_port/api/v1/floor"
  # One sample per cycle: a new (last_cycle_utc, last_cycle_ms) pair. Bounded wait.
  local seen=() last="" deadline=$((SECONDS + 10 + (cycles + 2) * (interval_ms / 1000 + 3)))
  local ticks0=0 counts=""
  while [ ${#seen[@]} -lt $((cycles + 1)) ] && [ $SECONDS -lt $deadline ]; do
    local body key
    if body=$(curl -sf --max-time 2 "$api"); then
      key=$(jq -r '"\(.last_cycle_utc) \(.last_cycle_ms)"' <<<"$body")
      if [ "$key" != "null null" ] && [ "$key" != "$last" ]; then
        last=$key
        seen+=("${key#* }")
        counts=$(jq -c '.counts' <<<"$body")
        # CPU from the end of the cold cycle on: warm cycles only.
        [ ${#seen[@]} -eq 1 ] && ticks0=$(cpu_ticks "$floor_pid")
      fi
    fi
    sleep 0.1
  done
  local ticks1 rss hwm
  ticks1=$(cpu_ticks "$floor_pid")
  rss=$(status_kb "$floor_pid" VmRSS) hwm=$(status_kb "$floor_pid" VmHWM)
  kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true; floor_pid=
  if [ ${#seen[@]} -lt 2 ]; then
    echo "N=$n max_in_flight=$mif: fewer than 2 cycles within the time limit" >&2
    results+=("| $n | $mif | ${seen[0]:-–} | – | – | – | – | $((rss / 1024)) | $((hwm / 1024)) | $counts |")
    return
  fi
  local cold=${seen[0]} warm=("${seen[@]:1}")
  local stats
  stats=$(printf '%s\n' "${warm[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.1f | %.1f | %.1f", v[1], m, v[NR] }')
  local cpu_ms
  cpu_ms=$(awk -v t=$((ticks1 - ticks0)) -v c=${#warm[@]} -v hz="$hz" 'BEGIN { printf "%.0f", 1000 * t / hz / c }')
  results+=("| $n | $mif | $(printf '%.1f' "$cold") | $stats | $cpu_ms | $(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}') | $(awk -v k="$hwm" 'BEGIN{printf "%.1f", k/1024}') | $counts |")
}

for n in $sizes; do
  for mif in $in_flight; do
    run "$n" "$mif"
  done
done

echo "probes: $probes processes on 127.0.0.1:$base_port..$((base_port + probes - 1)); warm cycles per row: $cycles; poll interval ${interval_ms} ms"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| services | max_in_flight | cold cycle ms | warm min ms | warm median ms | warm max ms | floor CPU ms/warm cycle | VmRSS MB | VmHWM MB | states |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"

#!/usr/bin/env bash
# Issue 6's budget: a report over 1,000 services on loopback in ≤ 1 s end to end,
# process start included. Starts 10 `opsfloor probe` servers on loopback, writes an
# inventory of 1,000 services spread over them (each entry is polled separately),
# and times `opsfloor report` (release build) over 10 runs.
# Usage: bench/report.sh [--services 1000] [--runs 10]
set -euo pipefail
cd "$(dirname "$0")/.."
services=1000 runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --services) services=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
cargo build --release -q -p opsfloor
bin=target/release/opsfloor
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

base=19300
for i in $(seq 0 9); do
  SERVICE_NAME="probe-$i" SERVICE_KIND=ingest REPO_ID=bench/report RUST_LOG=warn \
    "$bin" probe --listen "127.0.0.1:$((base + i))" >/dev/null 2>&1 &
  pids+=($!)
done
for i in $(seq 0 9); do
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$((base + i))/health" >/dev/null && break; sleep 0.1; done
done

{
  echo '[floor]'
  echo 'name = "bench"'
  for n in $(seq 1 "$services"); do
    printf '\n[[services]]\nname = "svc-%05d"\nkind = "ingest"\nurl = "http://127.0.0.1:%d"\ncriticality = "important"\n' "$n" $((base + n % 10))
  done
} > "$work/floor.toml"

times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  code=0
  "$bin" report --config "$work/floor.toml" --format json --quiet > "$work/report.json" || code=$?
  end=$(date +%s%N)
  [ "$code" -le 4 ] || { echo "report failed with exit $code" >&2; exit 1; }
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "services: $services, runs: $runs, bytes: $(wc -c < "$work/report.json")"
echo "wall ms (sorted): $(echo $sorted | tr '\n' ' ')"
echo "median ms: $(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

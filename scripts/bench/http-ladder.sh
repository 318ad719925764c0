#!/usr/bin/env bash
# Where a POST's cost goes, step by step, on one server: GET /healthz; a POST refused after
# parsing (400); a duplicate POST (200: group commit, insert attempt, WAL sync, no new row);
# a new event (201). wrk 2 threads, 32 connections, RUNS rounds of the four in turn; prints
# medians of req/s and of the server's CPU per request (user + system, from /proc/PID/stat).
# Usage: RUNS=3 DURATION=8s scripts/bench/http-ladder.sh   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-8s}
source scripts/bench/serve.sh l.db
TICK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
step() { # name, wrk arguments…
  local name=$1; shift
  local before after out requests
  before=$(cpu)
  out=$(wrk -t2 -c32 -d"$DURATION" "$@")
  after=$(cpu)
  requests=$(awk '/requests in/ {print $1}' <<< "$out")
  printf '%s %s %.0f\n' "$name" "$(awk '/Requests\/sec/ {print $2}' <<< "$out")" \
    "$(echo "($after - $before) * 1000000 / $TICK / $requests" | bc -l)" >> "$W/all"
}
for r in $(seq "$RUNS"); do
  step healthz "$URL/healthz"
  step invalid -s scripts/bench/wrk-post-invalid.lua "$URL/api/v1/events"
  step duplicate -s scripts/bench/wrk-post-duplicate.lua "$URL/api/v1/events"
  step new -s scripts/bench/wrk-post.lua "$URL"
  echo "round $r done"
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(awk '$1 == "healthz" {print $2}' "$W/all" | median)
printf '%-38s %10s %8s %16s\n' "request" "req/s" "ratio" "server CPU/req"
for s in healthz invalid duplicate new; do
  case $s in
    healthz) label="GET /healthz" ;;
    invalid) label="POST, refused after parsing (400)" ;;
    duplicate) label="POST, duplicate (200, synced)" ;;
    new) label="POST, new event (201, synced)" ;;
  esac
  rate=$(awk -v s=$s '$1 == s {print $2}' "$W/all" | median)
  us=$(awk -v s=$s '$1 == s {print $3}' "$W/all" | median)
  printf '%-38s %10.0f %8.2f %13.0f µs\n' "$label" "$rate" "$(echo "$rate / $base" | bc -l)" "$us"
done
kill -TERM $PID; wait $PID || true
"$BIN" verify --db "$W/l.db"

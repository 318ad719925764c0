#!/usr/bin/env bash
# The HTTP benchmark (wrk, 2 threads, 32 connections: GET /healthz, then single-event POSTs)
# for two builds, alternating runs (A B A B …) so both see the same machine noise; each run
# on a fresh database. Prints each run and the medians of the POST/healthz ratio.
# Usage: scripts/bench/http-ab.sh OLD_BINARY NEW_BINARY [RUNS]   (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2 RUNS=${3:-3} DURATION=${DURATION:-10s}
W=$(mktemp -d /tmp/shiplog-http-ab.XXXXXX)
trap 'rm -rf "$W"' EXIT
run() {
  rm -f "$W"/h.db*
  "$1" serve --db "$W/h.db" --port 0 --log-level warning > "$W/out" 2> "$W/err" &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$W/out" && break; sleep 0.1; done
  local url g p
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")
  g=$(wrk -t2 -c32 -d"$DURATION" "$url/healthz" | awk '/Requests\/sec/ {print $2}')
  p=$(wrk -t2 -c32 -d"$DURATION" -s scripts/bench/wrk-post.lua "$url" | tee "$W/post.txt" | awk '/Requests\/sec/ {print $2}')
  if grep -qE 'Non-2xx|Socket errors' "$W/post.txt"; then grep -E 'Non-2xx|Socket errors' "$W/post.txt" >&2; fi
  kill -TERM $pid; wait $pid || true
  echo "$g $p $(echo "$p / $g" | bc -l)"
}
for i in $(seq "$RUNS"); do
  echo "A $(run "$A")"
  echo "B $(run "$B")"
done | tee "$W/all"
median() { sort -g | awk '{a[NR]=$1} END {m=int((NR+1)/2); print a[m]}'; }
for v in A B; do
  printf '%s median: POST %.0f req/s, healthz %.0f req/s, ratio %.2f\n' "$v" \
    "$(awk -v v=$v '$1 == v {print $3}' "$W/all" | median)" \
    "$(awk -v v=$v '$1 == v {print $2}' "$W/all" | median)" \
    "$(awk -v v=$v '$1 == v {print $4}' "$W/all" | median)"
done

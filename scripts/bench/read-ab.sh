#!/usr/bin/env bash
# Reads of a 1,000,000-event log by two builds, alternating: `/metrics` scrape latency
# (wrk -t1 -c1 --latency, DURATION each) of a server started from the log's snapshot, and
# the whole `events list --env production --limit 50` process (hyperfine, 30 runs each).
# Uses the log scripts/bench/startup.sh builds in $W (run that first with the same W).
# Usage: W=/tmp/su scripts/bench/read-ab.sh OLD_BINARY NEW_BINARY [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2 RUNS=${3:-3} DURATION=${DURATION:-10s}
[ -f "$W/base.db" ] || { echo "no $W/base.db: run W=$W scripts/bench/startup.sh first" >&2; exit 1; }
scrape() {
  rm -f "$W/read.db"*; for f in "$W/base.db"*; do cp "$f" "$W/read.db${f#$W/base.db}"; done
  "$1" serve --db "$W/read.db" --port 0 --verify-interval 0 --snapshot-every 0 > "$W/rout" 2> "$W/rerr" &
  local pid=$!
  for _ in $(seq 1200); do grep -q listening "$W/rout" && break; sleep 0.05; done
  local url; url=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/rout")
  wrk -t1 -c1 -d"$DURATION" --latency "$url/metrics" | awk '/ 50%/ {p50=$2} / 99%/ {p99=$2} /Requests\/sec/ {r=$2} END {print p50, p99, r}'
  kill -TERM $pid; wait $pid || true
}
for i in $(seq "$RUNS"); do
  echo "A scrape p50 p99 scrapes/s: $(scrape "$A")"
  echo "B scrape p50 p99 scrapes/s: $(scrape "$B")"
done
hyperfine -N --warmup 3 --runs 30 \
  "$A events list --db $W/base.db --env production --limit 50" \
  "$B events list --db $W/base.db --env production --limit 50"

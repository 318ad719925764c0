#!/usr/bin/env bash
# Start-up replay time of two builds on the same event log, alternating runs (A B A B …), so
# both see the same machine noise. The time is the server's own "replayed the event log" line.
# Usage: scripts/bench/replay-ab.sh OLD_BINARY NEW_BINARY DB [RUNS]
#   (make DB with: python3 scripts/bench/gen_events.py 1000000 > e.ndjson; shiplog events import --db DB e.ndjson)
set -euo pipefail
A=$1 B=$2 DB=$3 RUNS=${4:-3}
W=$(mktemp -d /tmp/shiplog-replay.XXXXXX)
trap 'rm -rf "$W"' EXIT
replay() {
  "$1" serve --db "$DB" --port 0 --verify-interval 0 > "$W/out" 2> "$W/err" &
  local pid=$!
  for _ in $(seq 1200); do grep -q listening "$W/out" && break; sleep 0.05; done
  grep -o 'duration=[0-9.]*' "$W/err" | head -1 | cut -d= -f2
  kill -TERM $pid; wait $pid || true
}
for i in $(seq "$RUNS"); do
  echo "A $(replay "$A")"
  echo "B $(replay "$B")"
done | tee "$W/all"
for v in A B; do
  printf '%s median %s s\n' "$v" "$(awk -v v=$v '$1 == v {print $2}' "$W/all" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done

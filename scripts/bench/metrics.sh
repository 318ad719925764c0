#!/usr/bin/env bash
# Scrape latency of /metrics with 1,000 and with 1,000,000 events (both across 100 services x
# 3 environments, so the series are the same), start-up replay time and resident memory.
# Usage: scripts/bench/metrics.sh   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/.build/release/shiplog}
DURATION=${DURATION:-10s}
W=$(mktemp -d /tmp/shiplog-metrics.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$W"' EXIT

for n in 1000 1000000; do
  python3 scripts/bench/gen_events.py "$n" > "$W/e.ndjson"
  "$BIN" events import --db "$W/$n.db" "$W/e.ndjson" >/dev/null
  start=$(date +%s.%N)
  "$BIN" serve --db "$W/$n.db" --port 0 > "$W/out" 2> "$W/err" &
  PID=$!
  for _ in $(seq 600); do grep -q listening "$W/out" && break; sleep 0.05; done
  ready=$(date +%s.%N)
  URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")
  replay=$(grep -o 'duration=[0-9.]* [a-z]*' "$W/err" | head -1)
  size=$(curl -s "$URL/metrics" | wc -c)
  series=$(curl -s "$URL/metrics" | grep -vc '^#')
  wrk -t1 -c1 -d"$DURATION" --latency "$URL/metrics" > "$W/wrk.txt"
  p50=$(awk '/50%/ {print $2}' "$W/wrk.txt")
  p99=$(awk '/99%/ {print $2}' "$W/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$W/wrk.txt")
  rss=$(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$PID/status)
  hwm=$(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$PID/status)
  printf '%8d events: replay %s (process ready after %.2f s); scrape p50 %s p99 %s (%s scrapes/s, %d bytes, %d samples); RSS %s, peak %s\n' \
    "$n" "$replay" "$(echo "$ready - $start" | bc -l)" "$p50" "$p99" "$rps" "$size" "$series" "$rss" "$hwm"
  kill -TERM $PID; wait $PID || true; PID=
done

#!/usr/bin/env bash
# wrk on loopback, 2 threads, 32 connections: single-event POSTs with unique ids against
# GET /healthz on the same server, alternating, RUNS times each.
# Usage: RUNS=3 DURATION=10s scripts/bench/http.sh   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
source scripts/bench/serve.sh http.db
rps() { grep 'Requests/sec' | awk '{print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
posts=(); gets=()
for r in $(seq "$RUNS"); do
  g=$(wrk -t2 -c32 -d"$DURATION" "$URL/healthz" | rps)
  p=$(wrk -t2 -c32 -d"$DURATION" -s scripts/bench/wrk-post.lua "$URL" | tee "$W/post.txt" | rps)
  grep -E 'Non-2xx|Socket errors' "$W/post.txt" || true
  gets+=("$g"); posts+=("$p")
  echo "run $r: GET /healthz $g req/s, POST /api/v1/events $p req/s"
done
mg=$(printf '%s\n' "${gets[@]}" | median)
mp=$(printf '%s\n' "${posts[@]}" | median)
rows=$(sqlite3 "$W/http.db" "SELECT count(*) FROM events")
printf 'median: GET /healthz %.0f req/s, POST %.0f req/s, ratio %.2f; %d events in the log\n' "$mg" "$mp" "$(echo "$mp / $mg" | bc -l)" "$rows"
kill -TERM $PID; wait $PID || true
"$BIN" verify --db "$W/http.db"

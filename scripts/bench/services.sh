#!/usr/bin/env bash
# Ingest by the number of services the events are for: wrk on loopback (2 threads,
# 32 connections, single-event POSTs with unique ids and no `time`, so the server stamps
# them) spread over 1, 10 and 100 services, RUNS times each, builds A and B alternating,
# each run on a fresh database. Then one service for 6 × 10 s on one database: whether the
# rate holds as the pair grows.
# Usage: scripts/bench/services.sh OLD_BINARY NEW_BINARY [RUNS]   (DURATION=10s by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2 RUNS=${3:-3} DURATION=${DURATION:-10s}
W=$(mktemp -d /tmp/shiplog-services.XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$W"' EXIT
pid=
start() {
  rm -f "$W"/s.db*
  "$1" serve --db "$W/s.db" --port 0 --log-level warning > "$W/out" 2> "$W/err" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$W/out" && break; sleep 0.1; done
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")
}
post() {  # services → req/s
  SERVICES=$1 wrk -t2 -c32 -d"$DURATION" -s scripts/bench/wrk-post.lua "$url" | tee "$W/post.txt" | awk '/Requests\/sec/ {print $2}'
  if grep -qE 'Non-2xx|Socket errors' "$W/post.txt"; then grep -E 'Non-2xx|Socket errors' "$W/post.txt" >&2; fi
}
stop() { kill -TERM $pid; wait $pid || true; }
for r in $(seq "$RUNS"); do
  for n in 1 10 100; do
    for v in A B; do
      bin=$A; [ $v = B ] && bin=$B
      start "$bin"; echo "$v $n $(post $n)"; stop
    done
  done
done | tee "$W/all"
median() { sort -g | awk '{a[NR]=$1} END {m=int((NR+1)/2); print a[m]}'; }
for v in A B; do
  for n in 1 10 100; do
    printf '%s median, %3d services: %.0f req/s\n' $v $n "$(awk -v v=$v -v n=$n '$1 == v && $2 == n {print $3}' "$W/all" | median)"
  done
done
for v in A B; do
  bin=$A; [ $v = B ] && bin=$B
  start "$bin"
  rates=()
  for i in 1 2 3 4 5 6; do rates+=("$(post 1)"); done
  echo "$v one service, 6 × $DURATION on one database: ${rates[*]} req/s; $(sqlite3 "$W/s.db" 'SELECT count(*) FROM events') events"
  stop
done

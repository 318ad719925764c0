#!/usr/bin/env bash
# Start-up time of `shiplog serve` on a 1,000,000-event log, three ways, alternating runs:
#   full     --snapshot-every 0: the whole log replayed (no snapshot read or written)
#   tail     the snapshot saved at row 990,000 and the 10,000 events after it (a kill -9 just
#            before the next snapshot: the most a default server ever has to replay)
#   snapshot the snapshot saved at the last row (after a graceful stop)
# Each run starts from a copy of the same database. The time is the server's own
# "replayed the event log" line; RSS is read once the server listens.
# Usage: scripts/bench/startup.sh [RUNS]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/.build/release/shiplog}
RUNS=${1:-3}
W=${W:-$(mktemp -d /tmp/shiplog-startup.XXXXXX)}
if [ ! -f "$W/base.db" ]; then
  python3 scripts/bench/gen_events.py 1000000 > "$W/e.ndjson"
  head -n 990000 "$W/e.ndjson" > "$W/first.ndjson"
  tail -n 10000 "$W/e.ndjson" > "$W/last.ndjson"
  "$BIN" events import --db "$W/base.db" "$W/first.ndjson" >/dev/null
  "$BIN" serve --db "$W/base.db" --port 0 --verify-interval 0 > "$W/out" 2> "$W/err" &
  pid=$!
  for _ in $(seq 1200); do grep -q 'projection snapshot saved' "$W/err" && break; sleep 0.1; done
  kill -TERM $pid; wait $pid || true
  "$BIN" events import --db "$W/base.db" "$W/last.ndjson" >/dev/null
  rm -f "$W/e.ndjson" "$W/first.ndjson" "$W/last.ndjson"
fi
start() { # DB ARGS… → "seconds rss_mib"
  local db=$1; shift
  "$BIN" serve --db "$db" --port 0 --verify-interval 0 "$@" > "$W/out" 2> "$W/err" &
  local pid=$!
  for _ in $(seq 1200); do grep -q listening "$W/out" && break; sleep 0.05; done
  local d rss
  d=$(grep -o 'duration=[0-9.]*' "$W/err" | head -1 | cut -d= -f2)
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)
  grep -o 'from=[^=]* duration' "$W/err" | head -1 | sed 's/ duration//' >&2
  kill -TERM $pid; wait $pid || true
  echo "$d $rss"
}
for i in $(seq "$RUNS"); do
  rm -f "$W/run.db"*; for f in "$W/base.db"*; do cp "$f" "$W/run.db${f#$W/base.db}"; done
  echo "full $(start "$W/run.db" --snapshot-every 0)"
  echo "tail $(start "$W/run.db")"
  echo "snapshot $(start "$W/run.db")"
done | tee "$W/all"
for v in full tail snapshot; do
  awk -v v=$v '$1 == v {print $2, $3}' "$W/all" | sort -n |
    awk -v v=$v '{t[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); printf "%-8s median %.3f s, RSS %s MiB\n", v, t[m], r[m]}'
done
echo "work directory: $W"

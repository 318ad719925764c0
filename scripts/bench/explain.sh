#!/usr/bin/env bash
# `shiplog explain` for one pair of a 1,000,000-event log (100 services x 3 environments over
# 90 days, so ~3,300 events per pair and ~10,000 per service): the whole CLI process on the
# local file, and GET /api/v1/explain on a server, RUNS times each; prints the medians.
# Usage: scripts/bench/explain.sh [RUNS]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/.build/release/shiplog}
RUNS=${1:-10}
W=${W:-$(mktemp -d /tmp/shiplog-explain.XXXXXX)}
DB=${DB:-$W/e.db}   # any 1M-event log of gen_events.py (startup.sh's base.db will do)
if [ ! -f "$DB" ]; then
  python3 scripts/bench/gen_events.py 1000000 > "$W/e.ndjson"
  "$BIN" events import --db "$DB" "$W/e.ndjson" >/dev/null
  rm -f "$W/e.ndjson"
fi
SERVICE=$(sqlite3 "$DB" "SELECT service FROM events WHERE environment = 'production' LIMIT 1")
echo "pair: $SERVICE/production, $(sqlite3 "$DB" "SELECT count(*) FROM events WHERE service = '$SERVICE' AND environment = 'production'") events; service: $(sqlite3 "$DB" "SELECT count(*) FROM events WHERE service = '$SERVICE'")"
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
cli=()
for _ in $(seq "$RUNS"); do
  s=$(date +%s%N)
  "$BIN" explain --db "$DB" --service "$SERVICE" --env production --window 90d --format json > "$W/x.json"
  cli+=($(( ($(date +%s%N) - s) / 1000000 )))
done
"$BIN" serve --db "$DB" --port 0 --verify-interval 0 > "$W/out" 2> "$W/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q listening "$W/out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")
http=()
for _ in $(seq "$RUNS"); do
  t=$(curl -s -o /dev/null -w '%{time_total}' "$URL/api/v1/explain?service=$SERVICE&environment=production&window=90d")
  http+=($(echo "$t * 1000" | bc -l | cut -d. -f1))
done
echo "deployments $(python3 -c "import json,sys; d=json.load(open('$W/x.json')); print(len(d['deployments']), 'lead-time samples', len(d['leadTimes']), 'episodes', len(d['episodes']))")"
echo "cli runs (ms): ${cli[*]}"
echo "http runs (ms): ${http[*]}"
echo "median: cli $(printf '%s\n' "${cli[@]}" | median) ms, http $(printf '%s\n' "${http[@]}" | median) ms"

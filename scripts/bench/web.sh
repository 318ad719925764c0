#!/usr/bin/env bash
# The web view's pages on a 1,000,000-event log (gen_events.py: 100 services x 3 environments,
# 300 pairs): the server's own render time (the `Server-Timing: render;dur=` of each answer)
# and the whole request as curl sees it, RUNS times each, against `GET /api/v1/status` (the
# same projection as JSON) in the same run as the baseline. Prints medians.
# Usage: scripts/bench/web.sh [RUNS]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/.build/release/shiplog}
RUNS=${1:-30}
W=${W:-$(mktemp -d /tmp/shiplog-web.XXXXXX)}
DB=${DB:-$W/e.db}   # any 1M-event log of gen_events.py (startup.sh's base.db will do)
if [ ! -f "$DB" ]; then
  python3 scripts/bench/gen_events.py 1000000 > "$W/e.ndjson"
  "$BIN" events import --db "$DB" "$W/e.ndjson" >/dev/null
  rm -f "$W/e.ndjson"
fi
echo "log: $(sqlite3 "$DB" "SELECT count(*) FROM events") events, $(sqlite3 "$DB" "SELECT count(DISTINCT service || '/' || environment) FROM events") pairs"
"$BIN" serve --db "$DB" --port 0 --verify-interval 0 > "$W/out" 2> "$W/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1200); do grep -q listening "$W/out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) exit; if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
paths=("/api/v1/status" "/" "/board/cells" "/report?window=90d" "/history")
# Warm up (the first request of each kind pays for lazily built state).
for p in "${paths[@]}"; do curl -s -o /dev/null "$URL$p"; done
declare -A render total bytes
for _ in $(seq "$RUNS"); do
  for p in "${paths[@]}"; do   # interleaved, so that the machine's noise hits every path alike
    line=$(curl -s -D "$W/h" -o "$W/body" -w '%{time_total} %{size_download}' "$URL$p")
    total[$p]+="$(echo "${line% *} * 1000" | bc -l) "
    bytes[$p]=${line#* }
    dur=$(grep -i '^server-timing:' "$W/h" | sed 's/.*dur=\([0-9.]*\).*/\1/' | tr -d '\r' || true)
    render[$p]+="${dur:-NaN} "
  done
done
printf '%-20s %12s %12s %10s\n' path "render ms" "total ms" bytes
for p in "${paths[@]}"; do
  r=$(printf '%s\n' ${render[$p]} | grep -v NaN | median || true)
  t=$(printf '%s\n' ${total[$p]} | median)
  printf '%-20s %12s %12.3f %10s\n' "$p" "${r:--}" "$t" "${bytes[$p]}"
done
echo "(render: the server's Server-Timing, not sent by /api/v1/status; total: curl's time_total; medians of $RUNS)"

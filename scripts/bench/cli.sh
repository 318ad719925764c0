#!/usr/bin/env bash
# The CLI as a CI step or a person runs it, whole process (hyperfine -N): `--version`, and
# `events list --env production --limit 50` (table and json) on a 1,000,000-event log, for
# each binary given, against the sqlite3 shell running the same query on the same file in
# the same run; then `events record` of a new event each run, into a local file and to a
# server on loopback. Prints hyperfine's tables and each binary's peak RSS for `--version`.
# Usage: scripts/bench/cli.sh BINARY [BINARY…]   (e.g. .build/release/shiplog .build-static/release/shiplog)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
W=${W:-$(mktemp -d /tmp/shiplog-cli.XXXXXX)}
DB=${DB:-$W/e.db}   # any 1M-event log of gen_events.py (web.sh's or startup.sh's will do)
if [ ! -f "$DB" ]; then
  python3 scripts/bench/gen_events.py 1000000 > "$W/e.ndjson"
  "$1" events import --db "$DB" "$W/e.ndjson" >/dev/null
  rm -f "$W/e.ndjson"
fi
# What `events list` runs: the newest 50 (and one more, to know whether a next page exists).
QUERY="SELECT seq, event_id, received_ns, format, event FROM events WHERE environment = 'production' ORDER BY time_ns DESC, seq DESC LIMIT 51"
commands=(-n "sqlite3 (same query)" "sqlite3 -readonly $DB \"$QUERY\"")
for bin in "$@"; do
  name=$(basename "$(dirname "$(dirname "$bin")")")
  commands+=(-n "$name --version" "$bin --version")
  commands+=(-n "$name events list (table)" "$bin events list --db $DB --env production --limit 50")
  commands+=(-n "$name events list (json)" "$bin events list --db $DB --env production --limit 50 --format json")
done
medians() {  # hyperfine's JSON export: each command's median and its ratio to the first
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; b=r[0]["median"]
for x in r: print("%-34s median %6.1f ms  %5.2fx" % (x["command"], x["median"]*1000, x["median"]/b))' "$1"
}
hyperfine -N --warmup 3 --runs "${RUNS:-30}" --style basic --export-markdown "$W/cli.md" --export-json "$W/cli.json" "${commands[@]}" >/dev/null
cat "$W/cli.md"
medians "$W/cli.json"
for bin in "$@"; do
  echo "$bin --version peak RSS: $( { /usr/bin/time -f %M "$bin" --version >/dev/null; } 2>&1 ) KiB"
done

# `events record`, whole process: a new event each run (no --id: the id comes from the
# receive time), into a local file and to a server on loopback started from the first binary.
"$1" serve --db "$W/served.db" --port 0 --log-level warning > "$W/serve.out" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q listening "$W/serve.out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/serve.out")
record=(-n "sqlite3 (one INSERT)" "sqlite3 $W/plain.db \"INSERT INTO t VALUES (1)\"")
sqlite3 "$W/plain.db" "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(x)" >/dev/null
for bin in "$@"; do
  name=$(basename "$(dirname "$(dirname "$bin")")")
  record+=(-n "$name events record (file)" "$bin events record --db $W/recorded-$name.db --type deployment.succeeded --service api --env dev")
  record+=(-n "$name events record (server)" "$bin events record --server $URL --type deployment.succeeded --service api --env dev")
done
hyperfine -N --warmup 3 --runs "${RUNS:-30}" --style basic --export-markdown "$W/record.md" --export-json "$W/record.json" "${record[@]}" >/dev/null
cat "$W/record.md"
medians "$W/record.json"

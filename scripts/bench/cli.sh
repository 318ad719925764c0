#!/usr/bin/env bash
# The CLI as a CI step or a person runs it, whole process (hyperfine -N): `--version`, and
# `events list --env production --limit 50` (table and json) on a 1,000,000-event log, for
# each binary given, against the sqlite3 shell running the same query on the same file in
# the same run. Prints hyperfine's table and each binary's peak RSS for `--version`.
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
hyperfine -N --warmup 3 --runs "${RUNS:-30}" --style basic --export-markdown "$W/cli.md" "${commands[@]}" >/dev/null
cat "$W/cli.md"
for bin in "$@"; do
  echo "$bin --version peak RSS: $( { /usr/bin/time -f %M "$bin" --version >/dev/null; } 2>&1 ) KiB"
done

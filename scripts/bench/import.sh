#!/usr/bin/env bash
# `shiplog events import` of N events against the sqlite3 shell inserting the same rows
# (same schema, indexes and triggers, WAL, synchronous=FULL) in one transaction; then
# `shiplog events list --env production --limit 50` on that log, whole process. The import's
# peak RSS comes from GNU time (/usr/bin/time).
# Usage: N=1000000 RUNS=3 scripts/bench/import.sh   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}
RUNS=${RUNS:-3}
BIN=${BIN:-$PWD/.build/release/shiplog}
W=$(mktemp -d /tmp/shiplog-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

python3 scripts/bench/gen_events.py "$N" > "$W/events.ndjson"
echo "input: $N events, $(du -m "$W/events.ndjson" | cut -f1) MiB"

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

ours=(); theirs=(); peaks=()
for r in $(seq "$RUNS"); do
  rm -f "$W"/a.db*
  t=$(secs /usr/bin/time -o "$W/peak" -f "%M" "$BIN" events import --db "$W/a.db" "$W/events.ndjson")
  ours+=("$t")
  peaks+=("$(cat "$W/peak")")
  if [ "$r" = 1 ]; then
    # The same rows as INSERT statements, and the same schema.
    sqlite3 "$W/a.db" .schema > "$W/schema.sql"
    sqlite3 "$W/a.db" ".mode insert events" "SELECT * FROM events;" > "$W/rows.sql"
  fi
  rm -f "$W"/b.db*
  sqlite3 "$W/b.db" "PRAGMA journal_mode=WAL;" >/dev/null
  sqlite3 "$W/b.db" < "$W/schema.sql"
  t=$(secs sh -c "(echo 'PRAGMA synchronous=FULL; BEGIN;'; cat '$W/rows.sql'; echo 'COMMIT;') | sqlite3 '$W/b.db'")
  theirs+=("$t")
  echo "run $r: shiplog import ${ours[-1]} s (peak RSS ${peaks[-1]} KB), sqlite3 ${theirs[-1]} s"
done
mo=$(printf '%s\n' "${ours[@]}" | median)
mt=$(printf '%s\n' "${theirs[@]}" | median)
printf 'median: shiplog %.2f s = %.0f events/s; sqlite3 %.2f s = %.0f rows/s; ratio %.2f\n' \
  "$mo" "$(echo "$N / $mo" | bc -l)" "$mt" "$(echo "$N / $mt" | bc -l)" "$(echo "$mt / $mo" | bc -l)"
printf 'median peak RSS of the import: %s KB\n' "$(printf '%s\n' "${peaks[@]}" | median)"
"$BIN" verify --db "$W/a.db"

if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs 30 "$BIN events list --db $W/a.db --env production --limit 50" \
    "$BIN events list --db $W/a.db --env production --limit 50 --format ndjson" --export-markdown "$W/list.md" >/dev/null
  cat "$W/list.md"
fi

#!/usr/bin/env bash
# Local reads without a replay, whole process (hyperfine -N): `gate` (one that passes and one
# that is closed), `status` and `report` from the snapshot, on a 1,000,000-event log, against
# `shiplog --version` of the same binary in the same run. SQLite always; PostgreSQL too when
# PG_URL names an empty database (eval "$(bash scripts/postgres-cluster.sh start)" gives one).
# Usage: scripts/bench/gate.sh BINARY   (a release build: .build/release/shiplog)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
B=$1
W=${W:-$(mktemp -d /tmp/shiplog-gate.XXXXXX)}
[ -f "$W/e.ndjson" ] || python3 scripts/bench/gen_events.py 1000000 > "$W/e.ndjson"
medians() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; b=r[0]["median"]
for x in r: print("%-30s median %8.1f ms  %7.2fx" % (x["command"], x["median"]*1000, x["median"]/b))' "$1"
}
run() {  # $1: label, $2: --db value, $3…: extra options for status/report
  local label=$1 db=$2; shift 2
  if [ "$label" = sqlite ] && [ ! -f "$db" ]; then "$B" events import --db "$db" "$W/e.ndjson" >/dev/null; fi
  if [ "$label" = postgres ]; then "$B" events import --db "$db" "$W/e.ndjson" >/dev/null; fi
  # A version that passed dev and staging, so one gate opens; generated versions are unique per environment.
  for env in dev staging; do
    "$B" events record --db "$db" --type deployment.succeeded --service service-000 --env $env --version 9.9.9 --time 2026-10-30T00:00:00Z --id "gate-bench-$env" >/dev/null
  done
  echo "$label: first status (replays 1,000,002 events, saves the snapshot):"
  /usr/bin/time -f "  %e s wall, %M KiB peak" "$B" status --db "$db" "$@" >/dev/null
  hyperfine -N -i --warmup 3 --runs "${RUNS:-20}" --style basic --export-json "$W/$label.json" \
    -n "$label --version" "$B --version" \
    -n "$label gate (passes)" "$B gate --db $db --service service-000 --env production --version 9.9.9" \
    -n "$label gate (closed)" "$B gate --db $db --service service-000 --env production --version 1.333.18" \
    -n "$label status (snapshot)" "$B status --db $db $*" \
    -n "$label report (snapshot)" "$B report --db $db $*" >/dev/null
  medians "$W/$label.json"
}
run sqlite "$W/e.db"
if [ -n "${PG_URL:-}" ]; then run postgres "$PG_URL" --snapshot-file "$W/pg.snapshot"; fi

#!/usr/bin/env bash
# The PostgreSQL backend on a throwaway local cluster (scripts/postgres-cluster.sh; fsync and
# synchronous_commit on, the defaults), everything on the same 2 cores:
#   1. durable single-event POSTs (wrk, 32 connections, unique ids, 100 services) to one
#      replica and to two replicas on one database (two wrk, 16 connections each), against
#      pgbench running a one-row INSERT transaction with 32 clients: the database's own
#      ceiling for one row per transaction. RUNS rounds, the three alternating, each on a
#      fresh database, DURATION each.
#   2. `events import` of N events into PostgreSQL against psql's \copy of the same rows into
#      the same schema (indexes and triggers), RUNS times each.
#   3. /metrics scrape latency on a replica at N events (wrk, 1 connection), and its start-up
#      from its snapshot file (to /readyz answering 200), RUNS times.
# Usage: RUNS=3 N=1000000 scripts/bench/postgres.sh   (after swift build -c release)
#        PARTS="1" runs only the first part (default "1 2 3").
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/.build/release/shiplog}
RUNS=${RUNS:-3}
N=${N:-1000000}
DURATION=${DURATION:-10s}
PARTS=${PARTS:-1 2 3}
W=$(mktemp -d /tmp/shiplog-pgbench.XXXXXX)
chmod 755 "$W"
eval "$(bash scripts/postgres-cluster.sh start)"
PG=$SHIPLOG_TEST_POSTGRES_URL
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash scripts/postgres-cluster.sh stop "$SHIPLOG_TEST_POSTGRES_DIR"
  rm -rf "$W"
}
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

fresh() { # NAME → the URL of a new, empty database
  psql "$PG" -qX -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "$PG" | sed "s#/postgres?#/$1?#"
}
serve() { # NAME URL SNAPSHOT → starts a replica; its base URL in $W/url.NAME, pid in $W/pid.NAME
  "$BIN" serve --db "$2" --snapshot-file "$3" --port 0 --log-level warning --verify-interval 0 \
    > "$W/out.$1" 2> "$W/err.$1" &
  pids+=($!)
  echo $! > "$W/pid.$1"
  for _ in $(seq 6000); do grep -q listening "$W/out.$1" && break; sleep 0.05; done
  grep -o 'http://127.0.0.1:[0-9]*' "$W/out.$1" > "$W/url.$1"
}
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
post() { # CONNECTIONS THREADS URL [PREFIX] → req/s (non-2xx answers are reported on stderr)
  local out=$W/wrk.$RANDOM
  PREFIX=${4:-wrk} SERVICES=100 wrk -t"$2" -c"$1" -d"$DURATION" -s scripts/bench/wrk-post.lua "$3" > "$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then grep -E 'Non-2xx|Socket errors' "$out" >&2; fi
  awk '/Requests\/sec/ {print $2}' "$out"
}

cat > "$W/insert.sql" <<'EOF'
\set r random(1, 9000000000000000000)
INSERT INTO events (event_id, body) VALUES ('pgbench-' || :r, '{"type":"deployment.succeeded","service":"svc-1","environment":"production","version":"1.0"}');
EOF

part() { [[ " $PARTS " == *" $1 "* ]]; }

if part 1; then
echo "== 1. durable single-event POSTs vs pgbench ($RUNS rounds, $DURATION each)"
for r in $(seq "$RUNS"); do
  url=$(fresh bench_pgbench)
  psql "$url" -qX -c "CREATE TABLE events (seq bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, body text NOT NULL)"
  tps=$(pgbench -n -c 32 -j 2 -T "${DURATION%s}" -f "$W/insert.sql" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  echo "pgbench $tps"

  url=$(fresh bench_one)
  serve one "$url" "$W/snap.one"
  a=$(cat "$W/url.one")
  echo "one $(post 32 2 "$a")"
  stop_all

  url=$(fresh bench_two)
  serve a "$url" "$W/snap.two.a"
  serve b "$url" "$W/snap.two.b"
  a=$(cat "$W/url.a")
  b=$(cat "$W/url.b")
  post 16 1 "$a" a > "$W/two.a" &
  wa=$!
  post 16 1 "$b" b > "$W/two.b"
  wait $wa
  echo "two $(echo "$(cat "$W/two.a") + $(cat "$W/two.b")" | bc -l)"
  rows=$(psql "$url" -qXtA -c "SELECT count(*) = max(seq) AND count(*) = count(DISTINCT event_id) FROM events")
  [ "$rows" = t ] || echo "two replicas left a gap or a duplicate in the log" >&2
  stop_all
done | tee "$W/post"
for v in pgbench one two; do
  printf '%-8s median %.0f (%s)\n' $v "$(awk -v v=$v '$1 == v {print $2}' "$W/post" | median)" \
    "$(awk -v v=$v '$1 == v {printf "%.0f ", $2}' "$W/post")"
done | tee "$W/post.median"
pg=$(awk '$1 == "pgbench" {print $3}' "$W/post.median")
one=$(awk '$1 == "one" {print $3}' "$W/post.median")
two=$(awk '$1 == "two" {print $3}' "$W/post.median")
printf 'one replica / pgbench %.2f×, two replicas / one %.2f×\n' "$(echo "$one / $pg" | bc -l)" "$(echo "$two / $one" | bc -l)"
fi
part 2 || part 3 || exit 0

echo "== 2. events import of $N events vs \\copy of the same rows"
python3 scripts/bench/gen_events.py "$N" > "$W/events.ndjson"
ours=()
theirs=()
for r in $(seq "$RUNS"); do
  url=$(fresh bench_import)
  s=$(now)
  "$BIN" events import --db "$url" "$W/events.ndjson" > /dev/null
  ours+=("$(echo "$(now) - $s" | bc -l)")
  if [ "$r" = 1 ]; then
    pg_dump --schema-only "$url" > "$W/schema.sql"
    psql "$url" -qX -c "\\copy (SELECT * FROM events ORDER BY seq) TO '$W/events.copy'"
  fi
  copy=$(fresh bench_copy)
  psql "$copy" -qX -f "$W/schema.sql" > /dev/null
  s=$(now)
  psql "$copy" -qX -c "\\copy events FROM '$W/events.copy'"
  theirs+=("$(echo "$(now) - $s" | bc -l)")
  echo "run $r: shiplog import ${ours[-1]} s, \\copy ${theirs[-1]} s"
done
mo=$(printf '%s\n' "${ours[@]}" | median)
mt=$(printf '%s\n' "${theirs[@]}" | median)
printf 'median: shiplog %.1f s = %.0f events/s; \\copy %.1f s = %.0f rows/s; ratio %.2f\n' \
  "$mo" "$(echo "$N / $mo" | bc -l)" "$mt" "$(echo "$N / $mt" | bc -l)" "$(echo "$mt / $mo" | bc -l)"
echo "database size: $(psql "$url" -qXtA -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

echo "== 3. a replica at $N events: scrape, and start-up from its snapshot"
url=$(echo "$PG" | sed "s#/postgres?#/bench_import?#")
s=$(now)
serve big "$url" "$W/snap.big"
a=$(cat "$W/url.big")
until curl -sf "$a/readyz" > /dev/null; do sleep 0.05; done
printf 'first start (no snapshot: the whole log replayed): %.2f s\n' "$(echo "$(now) - $s" | bc -l)"
wrk -t1 -c1 -d"$DURATION" --latency "$a/metrics" > "$W/scrape"
echo "scrape: p50 $(awk '/ 50%/ {print $2}' "$W/scrape"), p99 $(awk '/ 99%/ {print $2}' "$W/scrape"), $(curl -s "$a/metrics" | wc -c) bytes"
stop_all
for r in $(seq "$RUNS"); do
  s=$(now)
  serve big "$url" "$W/snap.big"
  a=$(cat "$W/url.big")
  until curl -sf "$a/readyz" > /dev/null; do sleep 0.02; done
  t=$(echo "$(now) - $s" | bc -l)
  rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/"$(cat "$W/pid.big")"/status)
  echo "start $t $rss"
  stop_all
done | tee "$W/start"
printf 'start-up from the snapshot: median %.2f s (%s), RSS %s MiB\n' \
  "$(awk '{print $2}' "$W/start" | median)" "$(awk '{printf "%.2f ", $2}' "$W/start")" "$(awk '{print $3}' "$W/start" | median)"

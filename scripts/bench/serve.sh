# Sourced by the HTTP benchmarks: starts `$BIN serve` (default: the release build) on a
# fresh database `$W/$1` on a free loopback port, and sets W (a scratch directory removed at
# exit), PID and URL. Extra arguments go to `serve`.
BIN=${BIN:-$PWD/.build/release/shiplog}
W=$(mktemp -d /tmp/shiplog-bench.XXXXXX)
"$BIN" serve --db "$W/$1" --port 0 --log-level warning "${@:2}" > "$W/out" 2> "$W/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 100); do grep -q listening "$W/out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$W/out")

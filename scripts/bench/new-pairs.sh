#!/usr/bin/env bash
# Many new pairs in one body: 12,000 deployments of 12,000 new services in one NDJSON POST,
# then (on another server) 3,000 new services posted into a log that already holds 20,000.
# While each big POST runs, /healthz is asked every 50 ms; prints the POST's time and the
# median and worst /healthz latency meanwhile.
# Usage: scripts/bench/new-pairs.sh   (after swift build -c release; BIN= for another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
gen() { # gen FILE PREFIX COUNT
  python3 - "$@" <<'PY'
import json, sys
path, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"{prefix}-{i}", "type": "deployment.succeeded", "service": f"{prefix}-svc-{i}",
                            "environment": "production", "version": "1.0.0",
                            "time": f"2026-03-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"}) + "\n")
PY
}
post_with_probes() { # post_with_probes NAME FILE
  : > "$W/probes"
  ( while [ ! -e "$W/posted" ]; do curl -s -o /dev/null -w '%{time_total}\n' --max-time 60 "$URL/healthz" >> "$W/probes"; sleep 0.05; done ) &
  local prober=$!
  sleep 0.2
  curl -s -o "$W/answer" -w "$1: %{http_code} in %{time_total} s" -H "Content-Type: application/x-ndjson" \
    --data-binary @"$2" "$URL/api/v1/events"
  touch "$W/posted"; wait $prober; rm -f "$W/posted"
  sort -n "$W/probes" | awk '{a[NR]=$1} END {printf ", /healthz during it: %d probes, median %.1f ms, worst %.1f ms\n", NR, a[int((NR+1)/2)]*1000, a[NR]*1000}'
}
# A build without --max-pairs (the baseline) has no limit to raise.
limit=(); "${BIN:-$PWD/.build/release/shiplog}" serve --help | grep -q -- --max-pairs && limit=(--max-pairs 100000)
run() { # run NAME EXISTING NEW
  ( source scripts/bench/serve.sh "$1.db" --max-body 8388608 "${limit[@]}"
    if [ "$2" -gt 0 ]; then
      gen "$W/existing.ndjson" old "$2"
      curl -s -o /dev/null -H "Content-Type: application/x-ndjson" --data-binary @"$W/existing.ndjson" "$URL/api/v1/events"
    fi
    gen "$W/new.ndjson" new "$3"
    post_with_probes "$3 new pairs into $2" "$W/new.ndjson"
    echo "  metrics: $(curl -s "$URL/metrics" | grep -c '^shiplog_deployments_total{') deployment series" )
}
run a 0 12000
run b 20000 3000

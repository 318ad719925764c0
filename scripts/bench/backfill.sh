#!/usr/bin/env bash
# A backfill over HTTP: 2,000 deployments of one service posted as one NDJSON body, oldest
# first, then (for another service) newest first, then 2,000 more shuffled into the first
# service's history. Prints each POST's time and the recomputations it caused.
# Usage: scripts/bench/backfill.sh   (after swift build -c release; BIN= for another build)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/serve.sh b.db
python3 - "$W" <<'PY'
import datetime, json, random, sys
base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
def line(prefix, service, i, offset=0):
    t = (base + datetime.timedelta(minutes=37 * i + offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"id": f"{prefix}-{i}", "type": "deployment.succeeded", "service": service,
                       "environment": "production", "version": f"1.{i}", "time": t}) + "\n"
shuffled = list(range(1, 2001)); random.Random(3).shuffle(shuffled)
for name, service, order, offset in [("oldest-first", "web", range(1, 2001), 0),
                                     ("newest-first", "api", range(2000, 0, -1), 0),
                                     ("shuffled-into-web", "web", shuffled, 5)]:
    with open(f"{sys.argv[1]}/{name}.ndjson", "w") as f:
        f.writelines(line(name, service, i, offset) for i in order)
PY
recomputations() { curl -s "$URL/metrics" | awk '/^shiplog_projection_recomputations_total/ {print $2}'; }
for name in oldest-first newest-first shuffled-into-web; do
  before=$(recomputations)
  curl -s -o /dev/null -w "$name: %{http_code} in %{time_total} s" -H "Content-Type: application/x-ndjson" \
    --data-binary @"$W/$name.ndjson" "$URL/api/v1/events"
  echo ", $(( $(recomputations) - before )) recomputations"
done

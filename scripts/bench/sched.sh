#!/usr/bin/env bash
# Per-thread CPU and run-queue wait of a running process over SECONDS, from
# /proc/PID/task/*/schedstat (run ns, wait-on-runqueue ns, timeslices). Threads that start or
# end inside the window are left out. Use it while a load runs, e.g. during http.sh.
# Usage: scripts/bench/sched.sh PID [SECONDS]
set -euo pipefail
PID=$1 SECONDS_=${2:-3}
snap() { for t in /proc/"$PID"/task/*; do echo "$(basename "$t") $(tr ' ' _ < "$t"/comm) $(cat "$t"/schedstat)"; done | sort; }
a=$(snap); sleep "$SECONDS_"; b=$(snap)
join <(echo "$a") <(echo "$b") | awk '{run=($7-$3)/1e6; wait=($8-$4)/1e6; n=$9-$5;
  if (n > 0) printf "%-8s %-18s run %6.0f ms  waiting for a CPU %6.0f ms  over %6d wake-ups (%4.0f us each)\n", $1, $2, run, wait, n, wait*1000/n}'

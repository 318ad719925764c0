#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (-sanitize=fuzzer,address, in .build-fuzz) and runs each for SECONDS
# (default 60), seeded from ../shared/fixtures and Fuzz/Regressions/TARGET/, after replaying
# every kept regression input. A crash fails the script; its input is written to
# Fuzz/Regressions/TARGET/ so that it is kept (commit it) and replayed on every later run.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(FuzzJSON FuzzSources FuzzTime FuzzSnapshot)
FIXTURES=../shared/fixtures
[ -d "$FIXTURES" ] || { echo "fuzz: $FIXTURES is missing (the seeds come from it)" >&2; exit 1; }

W=$(mktemp -d /tmp/shiplog-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT
flags=(--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)
for target in "${TARGETS[@]}"; do
  if ! swift build "${flags[@]}" --product "$target" > "$W/build.log" 2>&1; then
    echo "fuzz: building $target failed:" >&2
    grep -E 'error' "$W/build.log" | head -n 20 >&2
    exit 1
  fi
done
BIN=$(swift build "${flags[@]}" --show-bin-path)

seed() { # seed TARGET DIR: the fixtures each target starts from
  case $1 in
    FuzzJSON) find "$FIXTURES" -name '*.json' -size -64k -exec cp {} "$2/" \; ;;
    FuzzSources)
      # The first byte picks the adapter (see Fuzz/Sources/FuzzSources/main.swift).
      i=0
      for f in $(find "$FIXTURES" -name '*.json' -size -64k | sort); do
        for s in 0 2 5 6 7 8 9 10 11 12; do printf "\\x$(printf %02x $s)" | cat - "$f" > "$2/$s-$i.bin"; done
        i=$((i + 1))
      done ;;
    FuzzTime)
      for t in 2026-03-01T12:00:00Z 2026-03-01T12:00:00.123456789+02:00 30d 12h 36500d 106752d 9223372037s 1s \
               2026-03-01 '-7d' '0' 'MjAyNg' 1780000000000000000:42; do
        printf %s "$t" > "$2/$(printf %s "$t" | sha1sum | cut -c1-12)"
      done ;;
    FuzzSnapshot) printf 'SHIPLOG-PROJECTION' > "$2/magic" ;;
  esac
}
failed=0
for target in "${TARGETS[@]}"; do
  regressions=Fuzz/Regressions/$target
  mkdir -p "$regressions" "$W/$target"
  seed "$target" "$W/$target"
  kept=$(find "$regressions" -type f ! -name README.md | wc -l)
  if [ "$kept" -gt 0 ]; then
    "$BIN/$target" -runs=0 $(find "$regressions" -type f ! -name README.md) > "$W/$target.replay" 2>&1 \
      || { echo "fuzz: $target fails a kept regression input:" >&2; tail -n 30 "$W/$target.replay" >&2; failed=1; continue; }
  fi
  if "$BIN/$target" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$regressions/" "$W/$target" > "$W/$target.log" 2>&1; then
    echo "fuzz: $target: $(grep -oE '#[0-9]+' "$W/$target.log" | tail -n 1 | tr -d '#') runs in ${SECONDS_EACH}s, no crash ($kept kept inputs replayed)"
  else
    echo "fuzz: $target crashed; the input is in $regressions/ (commit it):" >&2
    grep -E 'ERROR|Fatal error|Precondition|SUMMARY|artifact' "$W/$target.log" | head -n 20 >&2
    failed=1
  fi
done
exit $failed

#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time and fails on any crash, leak or timeout.
#
#   Tools/fuzz.sh schedule|frame [SECONDS]
#
# The target is built with -sanitize=fuzzer,address into .build/fuzz (kept apart from the normal
# build). The corpus starts from Tests/Fuzz/TARGET-seeds (and, for the schedule target, the shipped
# schedules); crashers are written to fuzz-artifacts/ and must be added to
# Tests/Fuzz/TARGET-crashers as regression inputs (the replay tests run every file there).
# The frame seeds are valid frames written by `swift run takt-fuzz-frame --write-seeds
# Tests/Fuzz/frame-seeds`.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-schedule}"
seconds="${2:-60}"
case "$target" in
  schedule) product=takt-fuzz-schedule; max_len=65536; seeds=(Schedules Tests/Fuzz/schedule-seeds Tests/Fuzz/schedule-crashers) ;;
  # The frame target's codec takes frames of at most 100 bytes; 512 leaves room for "too long".
  frame) product=takt-fuzz-frame; max_len=512; seeds=(Tests/Fuzz/frame-seeds Tests/Fuzz/frame-crashers) ;;
  *) echo "usage: Tools/fuzz.sh schedule|frame [SECONDS]" >&2; exit 2 ;;
esac

swift build --scratch-path .build/fuzz -c release --product "$product" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DTAKT_FUZZING -Xswiftc -use-ld=lld

corpus=".build/fuzz/corpus-$target"
mkdir -p "$corpus" fuzz-artifacts
for dir in "${seeds[@]}"; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -exec cp {} "$corpus/" \;
done

binary=".build/fuzz/release/$product"
echo "fuzzing $product for $seconds s (corpus $(ls "$corpus" | wc -l) files)"
"$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len="$max_len" \
  -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "fuzzing $product FAILED (exit $status); crashers in fuzz-artifacts/" >&2
  exit 1
fi
echo "fuzzing $product: 0 crashes"

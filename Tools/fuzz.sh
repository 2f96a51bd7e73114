#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time and fails on any crash, leak or timeout.
#
#   Tools/fuzz.sh schedule [SECONDS]
#
# The target is built with -sanitize=fuzzer,address into .build/fuzz (kept apart from the normal
# build). The corpus starts from the shipped schedules and Tests/Fuzz/schedule-seeds; crashers
# are written to fuzz-artifacts/ and must be added to Tests/Fuzz/schedule-crashers as
# regression inputs (the replay test runs every file there).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-schedule}"
seconds="${2:-60}"
case "$target" in
  schedule) product=takt-fuzz-schedule; seeds=(Schedules Tests/Fuzz/schedule-seeds Tests/Fuzz/schedule-crashers) ;;
  *) echo "usage: Tools/fuzz.sh schedule [SECONDS]" >&2; exit 2 ;;
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
"$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
  -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "fuzzing $product FAILED (exit $status); crashers in fuzz-artifacts/" >&2
  exit 1
fi
echo "fuzzing $product: 0 crashes"

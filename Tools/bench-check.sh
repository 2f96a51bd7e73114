#!/usr/bin/env bash
# Times `takt check` on a generated schedule (default 1,000 nodes, 100,000 tasks), pinned to one
# core, and prints every run and the median. Used for Docs/benchmarks.md.
#
#   Tools/bench-check.sh [NODES] [TASKS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
nodes="${1:-1000}"; tasks="${2:-100000}"; runs="${3:-9}"
swift build -c release --product takt >/dev/null
file="$(mktemp -d)/gen-$nodes-$tasks.takt"
.build/release/takt gen --nodes "$nodes" --tasks "$tasks" -o "$file"
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  taskset -c 0 .build/release/takt check --quiet "$file"
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "takt check, $nodes nodes, $tasks tasks, $(stat -c %s "$file") bytes, $runs runs on one core (ms): ${times[*]}"
echo "median: ${sorted[$(( runs / 2 ))]} ms  min: ${sorted[0]} ms  max: ${sorted[$(( runs - 1 ))]} ms"
rm -f "$file"

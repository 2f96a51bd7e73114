#!/usr/bin/env bash
# Simulator throughput and the protocol's per-slot cost (Docs/benchmarks.md).
#
#   Tools/bench-sim.sh [ROUNDS]      (each cluster runs ROUNDS·64/N rounds: about the same work)
#
# 1. Throughput: for clusters of 4, 16, 64 and 256 nodes (written by `takt gen`, one state message
#    per node), runs `takt sim` pinned to one core and prints frame receptions per second
#    (frames accepted by receivers / wall time, median of 3 runs).
# 2. Cost: valgrind's callgrind counts the instructions of the controller's entry points in a
#    4-node run and divides them by the slots processed (repeatable, unlike times).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2000}"
swift build -c release --product takt >/dev/null
dir="$(mktemp -d)"
echo "throughput (release, taskset -c 0, median of 3):"
for nodes in 4 16 64 256; do
  .build/release/takt gen --nodes "$nodes" --tasks 0 -o "$dir/g$nodes.takt" 2>/dev/null
  r=$(( rounds * 64 / nodes )); [ "$r" -ge 20 ] || r=20
  results=()
  for _ in 1 2 3; do
    start=$(date +%s%N)
    accepted=$(taskset -c 0 .build/release/takt sim "$dir/g$nodes.takt" --rounds "$r" --json | sed -n 's/.*"frames_accepted": \([0-9]*\).*/\1/p')
    end=$(date +%s%N)
    results+=("$(( accepted * 1000000000 / (end - start) ))")
  done
  median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n 2p)
  echo "  $nodes nodes, $r rounds: $accepted receptions per run; receptions/s: ${results[*]} -> median $median"
done
if command -v valgrind >/dev/null; then
  echo "per-slot cost (callgrind, 4 nodes, 1000 rounds = 4000 slots, 12000 receptions):"
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" .build/release/takt sim Schedules/minimal.takt --rounds 1000 >/dev/null 2>&1
  callgrind_annotate --inclusive=yes "$dir/cg.out" 2>/dev/null > "$dir/cg.txt" || true
  # Inclusive instruction counts of the controller's entry points (mangled names: 14NodeControllerV…).
  for entry in 8transmit:4000:transmissions 12windowClosed:12000:windows 7deliver:16000:calls 10roundEnded:4000:calls; do
    name="${entry%%:*}"; rest="${entry#*:}"; calls="${rest%%:*}"; what="${rest#*:}"
    total=$(grep -E "NodeControllerV${name}" "$dir/cg.txt" | grep -v compiler-generated | head -1 | awk '{gsub(",","",$1); print $1}' || true)
    [ -n "$total" ] && echo "  $(echo "$name" | sed "s/^[0-9]*//"): $total instructions, $(( total / calls )) per call ($calls $what)"
  done
fi
rm -rf "$dir"

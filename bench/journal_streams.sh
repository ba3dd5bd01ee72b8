#!/usr/bin/env bash
# How a 3-node Cairn journal's appends scale with the number of streams they spread over: the
# same 128 concurrent appenders (100-byte records) on 1, 4, 16 and 128 streams. Each stream is
# its own Raft group, but all of a node's streams write one shared log (NodeLog), so one
# group commit and one fsync carry every stream's entries: spreading the appends costs CPU
# (a Raft round per stream), not syncs. docs/journal.md has a run from before the shared log
# (128 streams at 0.31 of one stream) and after.
#
#   bench/journal_streams.sh [BUILD_DIR] [SECONDS]      (defaults: build, 5)
#
# WORK_DIR (default: a fresh directory under /var/tmp) holds the data directories.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
source "$(dirname "$0")/journal_cluster.sh"
journal_cluster_init "$build"

appenders=128
counts=(1 4 16 128)
serve_streams=()
for i in $(seq 0 127); do serve_streams+=(--stream "s$i"); done
journal_cluster_start "${serve_streams[@]}"
declare -A result
for n in "${counts[@]}"; do
  flags=()
  for i in $(seq 0 $((n - 1))); do flags+=(--stream "s$i"); done
  result[$n]=$("$cairn" journal bench --peers "$peers" "${flags[@]}" --appenders $appenders --record-bytes 100 \
               --seconds "$seconds" --json)
  echo "${result[$n]}"
done

echo
printf '%-8s | %12s %8s %8s | %s\n' streams "appends/s" "p50 ms" "p99 ms" "vs 1 stream"
one=$(field "${result[1]}" appends_per_s)
for n in "${counts[@]}"; do
  r=${result[$n]}
  rate=$(field "$r" appends_per_s)
  printf '%-8s | %12.0f %8.2f %8.2f | %.2f\n' "$n" "$rate" "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" \
    "$(awk -v a="$rate" -v b="$one" 'BEGIN { print a / b }')"
done

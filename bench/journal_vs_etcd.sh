#!/usr/bin/env bash
# A 3-node Cairn journal and a 3-member etcd, both on loopback on this machine, side by side:
# appends (puts) per second and p50/p99 latency at 1, 16 and 128 concurrent appenders, with
# 100-byte and 4 KiB records. Both acknowledge a write once a majority has it on disk
# (fdatasync), with their data directories on the same file system.
#
#   bench/journal_vs_etcd.sh [BUILD_DIR] [SECONDS] [ROUNDS]      (defaults: build, 5, 3)
#
# etcd is measured at its best: over its native gRPC API (build/bench/etcd_grpc_load, built
# when libgrpc++-dev and protobuf-compiler-grpc are installed), every put to the leader. Both
# clusters run for the whole bench, and each row is measured ROUNDS times, the two systems
# taking turns (the one that goes first alternating), so the shared machine's slow spells fall
# on both: the table shows each side's median and the ratio's median and range over the rounds.
#
# GATEWAY=1 also measures etcd through its JSON gateway (build/bench/etcd_put_load), which
# spends etcd's CPU translating to gRPC: shown beside, not compared. CAIRN_ONLY=1 runs without
# etcd. APPENDERS (default "1 16 128") picks the rows' appender counts. WORK_DIR (default: a fresh directory under /var/tmp) holds the data directories.
# Everything it needs: scripts/setup.sh --bench.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
rounds=${3:-3}
source "$(dirname "$0")/journal_cluster.sh"
journal_cluster_init "$build"
grpc_load="$build/bench/etcd_grpc_load"
gateway_load="$build/bench/etcd_put_load"
if [ "${CAIRN_ONLY:-0}" != 1 ]; then
  missing=()
  command -v etcd >/dev/null || missing+=("etcd (Debian: etcd-server)")
  [ -x "$grpc_load" ] || missing+=("$grpc_load (needs libgrpc++-dev and protobuf-compiler-grpc when configuring)")
  if [ "${GATEWAY:-0}" = 1 ] && [ ! -x "$gateway_load" ]; then missing+=("$gateway_load"); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "journal_vs_etcd: the anchor is missing: ${missing[*]}." >&2
    echo "Install everything with scripts/setup.sh --bench (it rebuilds), or set CAIRN_ONLY=1 to time Cairn alone." >&2
    exit 1
  fi
fi

read -r -a concurrency <<<"${APPENDERS:-1 16 128}"
sizes=(100 4096)
declare -A cairn etcd gateway  # "size,appenders" -> one JSON line per round, newline-separated

# --- Cairn: three `cairn journal serve` processes, one stream per row ---
streams=()
for s in "${sizes[@]}"; do for c in "${concurrency[@]}"; do streams+=(--stream "bench-$s-$c"); done; done
journal_cluster_start "${streams[@]}"

# --- etcd: three members ---
endpoints=""
if [ "${CAIRN_ONLY:-0}" != 1 ]; then
  cluster=""
  for i in 0 1 2; do cluster+="e$i=http://127.0.0.1:$((base + 20 + i)),"; done
  cluster=${cluster%,}
  for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$work/etcd$i" \
      --listen-peer-urls "http://127.0.0.1:$((base + 20 + i))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 20 + i))" \
      --listen-client-urls "http://127.0.0.1:$((base + 10 + i))" --advertise-client-urls "http://127.0.0.1:$((base + 10 + i))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token cairn-bench \
      --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) >"$work/etcd$i.log" 2>&1 &
    pids+=($!)
    endpoints+="127.0.0.1:$((base + 10 + i)),"
  done
  endpoints=${endpoints%,}
  ready=0
  for attempt in $(seq 50); do
    if "$grpc_load" --endpoints "$endpoints" --clients 1 --seconds 0.1 --warmup-seconds 0 >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.2
  done
  [ $ready = 1 ] || { echo "journal_vs_etcd: etcd did not elect a leader (logs in $work)" >&2; exit 1; }
fi

run_cairn() {
  "$cairn" journal bench --peers "$peers" --stream "bench-$1-$2" --appenders "$2" --record-bytes "$1" \
    --seconds "$seconds" --json
}
run_etcd() {
  "$grpc_load" --endpoints "$endpoints" --clients "$2" --value-bytes "$1" --seconds "$seconds" --json
}
for round in $(seq "$rounds"); do
  for s in "${sizes[@]}"; do
    for c in "${concurrency[@]}"; do
      key="$s,$c"
      if [ "${CAIRN_ONLY:-0}" = 1 ]; then
        cairn[$key]+="$(run_cairn "$s" "$c")"$'\n'
      elif [ $((round % 2)) = 1 ]; then
        cairn[$key]+="$(run_cairn "$s" "$c")"$'\n'
        etcd[$key]+="$(run_etcd "$s" "$c")"$'\n'
      else
        etcd[$key]+="$(run_etcd "$s" "$c")"$'\n'
        cairn[$key]+="$(run_cairn "$s" "$c")"$'\n'
      fi
      if [ "${GATEWAY:-0}" = 1 ] && [ "${CAIRN_ONLY:-0}" != 1 ]; then
        gateway[$key]+="$("$gateway_load" --endpoints "$endpoints" --clients "$c" --value-bytes "$s" --seconds "$seconds" --json)"$'\n'
      fi
    done
  done
  echo "journal_vs_etcd: round $round of $rounds done" >&2
done
journal_cluster_stop

# median NAME LINES: the median of a field over JSON lines.
median() {
  while IFS= read -r line; do [ -n "$line" ] && field "$line" "$1"; done <<<"$2" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratios: each round's Cairn/etcd appends per second, "median min max".
ratios() {
  paste <(while IFS= read -r l; do [ -n "$l" ] && field "$l" appends_per_s; done <<<"$1") \
        <(while IFS= read -r l; do [ -n "$l" ] && field "$l" appends_per_s; done <<<"$2") |
    awk '$2 > 0 { print $1 / $2 }' | sort -g |
    awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f-%.2f", m, v[1], v[NR] }'
}

echo
echo "3 nodes on loopback, majority fdatasync; ${seconds} s measured per row and round, ${rounds} rounds taking turns; $(nproc) cores"
echo "figures: each side's median over the rounds; ratio: the median of the rounds' Cairn/etcd, and its range"
header=$(printf "%-7s %-9s | %11s %7s %7s | %11s %7s %7s | %-6s %-11s" record appenders "cairn ops/s" "p50 ms" "p99 ms" \
  "etcd ops/s" "p50 ms" "p99 ms" ratio range)
[ "${GATEWAY:-0}" = 1 ] && header+=" | gateway ops/s"
echo "$header"
for s in "${sizes[@]}"; do
  for c in "${concurrency[@]}"; do
    key="$s,$c"
    cr=${cairn[$key]}
    line=$(printf "%-7s %-9s | %11.0f %7.2f %7.2f" "$s" "$c" \
      "$(median appends_per_s "$cr")" "$(median p50_ms "$cr")" "$(median p99_ms "$cr")")
    if [ "${CAIRN_ONLY:-0}" != 1 ]; then
      er=${etcd[$key]}
      read -r ratio range <<<"$(ratios "$cr" "$er")"
      line+=$(printf " | %11.0f %7.2f %7.2f | %-6s %-11s" \
        "$(median appends_per_s "$er")" "$(median p50_ms "$er")" "$(median p99_ms "$er")" "$ratio" "$range")
      [ "${GATEWAY:-0}" = 1 ] && line+=$(printf " | %13.0f" "$(median appends_per_s "${gateway[$key]}")")
    fi
    echo "$line"
  done
done

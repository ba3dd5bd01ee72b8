#!/usr/bin/env bash
# A 3-node Cairn journal and a 3-member etcd, on loopback on this machine, one after the other
# in one run: appends (puts) per second and p50/p99 latency at 1, 16 and 128 concurrent
# appenders, with 100-byte and 4 KiB records. Both acknowledge a write once a majority has it
# on disk (fdatasync), with their data directories on the same file system.
#
#   bench/journal_vs_etcd.sh [BUILD_DIR] [SECONDS]      (defaults: build, 5)
#
# etcd comes from Debian's etcd-server (apt-get install etcd-server); without it only Cairn
# runs. WORK_DIR (default: a fresh directory under /var/tmp) holds the data directories.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
source "$(dirname "$0")/journal_cluster.sh"
journal_cluster_init "$build"
load="$build/bench/etcd_put_load"
[ -x "$load" ] || { echo "missing $load: build first (cmake --build $build)"; exit 1; }

concurrency=(1 16 128)
sizes=(100 4096)
declare -A cairn_result etcd_result

# --- Cairn: three `cairn journal serve` processes, one stream per configuration ---
streams=()
for s in "${sizes[@]}"; do for c in "${concurrency[@]}"; do streams+=(--stream "bench-$s-$c"); done; done
journal_cluster_start "${streams[@]}"
for s in "${sizes[@]}"; do
  for c in "${concurrency[@]}"; do
    cairn_result[$s,$c]=$("$cairn" journal bench --peers "$peers" --stream "bench-$s-$c" --appenders "$c" \
                          --record-bytes "$s" --seconds "$seconds" --json)
    echo "${cairn_result[$s,$c]}"
  done
done
journal_cluster_stop

# --- etcd: three members ---
if command -v etcd >/dev/null; then
  cluster=""
  for i in 0 1 2; do cluster+="e$i=http://127.0.0.1:$((base + 20 + i)),"; done
  cluster=${cluster%,}
  endpoints=""
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
  for attempt in $(seq 50); do
    "$load" --endpoints "$endpoints" --clients 1 --seconds 0.1 --warmup-seconds 0 >/dev/null 2>&1 && break
    sleep 0.2
  done
  for s in "${sizes[@]}"; do
    for c in "${concurrency[@]}"; do
      etcd_result[$s,$c]=$("$load" --endpoints "$endpoints" --clients "$c" --value-bytes "$s" --seconds "$seconds" --json)
      echo "${etcd_result[$s,$c]}"
    done
  done
else
  echo "etcd is not installed (apt-get install etcd-server): Cairn alone"
fi

echo
echo "3 nodes on loopback, majority fdatasync; ${seconds} s measured per row; $(nproc) cores"
printf "%-7s %-10s | %12s %8s %8s | %12s %8s %8s | %s\n" record appenders "cairn ops/s" "p50 ms" "p99 ms" \
  "etcd ops/s" "p50 ms" "p99 ms" "cairn/etcd"
for s in "${sizes[@]}"; do
  for c in "${concurrency[@]}"; do
    cr=${cairn_result[$s,$c]}
    er=${etcd_result[$s,$c]:-}
    if [ -n "$er" ]; then
      ratio=$(awk -v a="$(field "$cr" appends_per_s)" -v b="$(field "$er" appends_per_s)" 'BEGIN { printf "%.2f", a / b }')
      printf "%-7s %-10s | %12.0f %8.2f %8.2f | %12.0f %8.2f %8.2f | %s\n" "$s" "$c" \
        "$(field "$cr" appends_per_s)" "$(field "$cr" p50_ms)" "$(field "$cr" p99_ms)" \
        "$(field "$er" appends_per_s)" "$(field "$er" p50_ms)" "$(field "$er" p99_ms)" "$ratio"
    else
      printf "%-7s %-10s | %12.0f %8.2f %8.2f |\n" "$s" "$c" \
        "$(field "$cr" appends_per_s)" "$(field "$cr" p50_ms)" "$(field "$cr" p99_ms)"
    fi
  done
done

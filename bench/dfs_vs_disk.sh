#!/usr/bin/env bash
# The DFS against the disk it runs on: a 3-node DFS (R=3, every copy on this machine's one
# disk, loopback TCP) writes and reads a file; fio writes the same bytes sequentially with an
# fdatasync per 2 MiB and reads them back, on the same file system. R=3 on one disk writes every
# byte three times, so the physical ceiling for DFS writes is a third of fio's rate; the table
# reports the DFS's write rate against that ceiling (the goal is 0.8) and its read rate against
# fio's read of a local file (the goal is 0.8) — warm (the file just written, in the page cache)
# and, as root, cold (every cache dropped first, on both sides). Each round runs both sides, the side that goes
# first alternating, so the shared machine's slow spells fall on both; the table shows the
# medians and the ratio's median and range over the rounds.
#
# Then two DFS figures without an anchor: the coprocessor (`cairn dfs scan`) summing every
# value of an SSTable of the same size next to its data, against getting the file — the bytes
# that never crossed the network; and re-replication: a fourth server joins, a server holding
# copies of an MB-sized file is killed, and the time from its death being declared (dfs_dead_after_ms)
# until fsck is clean gives the MB/s the master re-protects at.
#
#   bench/dfs_vs_disk.sh [BUILD_DIR] [MB] [ROUNDS]      (defaults: build, 256, 3)
#
# WORK_DIR (default: a fresh directory under /var/tmp) holds the data. Needs fio
# (scripts/setup.sh --bench).
set -euo pipefail
build=${1:-build}
mb=${2:-256}
rounds=${3:-3}
cairn="$build/tools/cairn"
command -v fio >/dev/null || { echo "dfs_vs_disk: fio is missing (Debian: fio; scripts/setup.sh --bench)" >&2; exit 1; }
[ -x "$cairn" ] || { echo "dfs_vs_disk: no $cairn (build first)" >&2; exit 1; }
work=${WORK_DIR:-$(mktemp -d /var/tmp/cairn-dfs-bench.XXXXXX)}
mkdir -p "$work"
base=$((20000 + RANDOM % 12000))  # below the ephemeral ports (32768 up), which clients take
peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2)),3=127.0.0.1:$((base + 3))"
# Failure detection in seconds, so the re-replication figure is mostly copying.
dead_ms=2000
knobs=(--knob dfs_heartbeat_ms=200 --knob dfs_suspect_after_ms=1000 --knob dfs_dead_after_ms=$dead_ms
       --knob dfs_repair_interval_ms=100)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" /dev/shm/cairn-dfs-bench.$$; }
trap cleanup EXIT

input=/dev/shm/cairn-dfs-bench.$$  # in memory: the bench times the DFS, not reading the input
head -c $((mb * 1024 * 1024)) /dev/urandom > "$input"
serve() { "$cairn" dfs serve --id "$1" --dir "$work/n$1" --peers "$peers" "${knobs[@]}" 2>"$work/n$1.log" & pids[$1]=$!; }
for i in 0 1 2; do serve "$i"; done  # node 3 joins for the re-replication figure
for _ in $(seq 100); do "$cairn" dfs ls --peers "$peers" >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
rate() { awk -v mb="$mb" -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", mb / (e - s) }'; }
declare -a dfs_w dfs_r fio_w fio_r dfs_rc fio_rc
# Cold reads (both sides from the disk, not the page cache) need root to drop the caches.
cold=0
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then cold=1; fi
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
dfs_round() {
  local r=$1 s e
  s=$(now); "$cairn" dfs put "$input" "/bench/r$r" --peers "$peers" -r 3 --timeout-s 120 >/dev/null; e=$(now)
  dfs_w[$r]=$(rate "$s" "$e")
  s=$(now); "$cairn" dfs get "/bench/r$r" /dev/null --peers "$peers" --timeout-s 120; e=$(now)
  dfs_r[$r]=$(rate "$s" "$e")
  if (( cold )); then
    drop_caches
    s=$(now); "$cairn" dfs get "/bench/r$r" /dev/null --peers "$peers" --timeout-s 120; e=$(now)
    dfs_rc[$r]=$(rate "$s" "$e")
  fi
  "$cairn" dfs rm "/bench/r$r" --peers "$peers" >/dev/null
}
fio_read() {
  fio --name=r --filename="$work/fio.dat" --rw=read --bs=2M --size="${mb}M" --ioengine=psync \
    --output-format=terse 2>/dev/null | awk -F';' '{ printf "%.1f", $7 / 1024 }'
}
fio_round() {
  local r=$1
  fio_w[$r]=$(fio --name=w --filename="$work/fio.dat" --rw=write --bs=2M --size="${mb}M" --fdatasync=1 \
    --ioengine=psync --output-format=terse 2>/dev/null | awk -F';' '{ printf "%.1f", $48 / 1024 }')
  fio_r[$r]=$(fio_read)
  if (( cold )); then drop_caches; fio_rc[$r]=$(fio_read); fi
  rm -f "$work/fio.dat"
}
for r in $(seq "$rounds"); do
  if (( r % 2 )); then dfs_round "$r"; fio_round "$r"; else fio_round "$r"; dfs_round "$r"; fi
  echo "round $r: dfs write ${dfs_w[$r]} MB/s, read ${dfs_r[$r]} MB/s${dfs_rc[$r]:+, cold ${dfs_rc[$r]} MB/s};" \
       "fio write+fdatasync ${fio_w[$r]} MB/s, read ${fio_r[$r]} MB/s${fio_rc[$r]:+, cold ${fio_rc[$r]} MB/s}" >&2
done

# Medians and the ratio's median [min, max] over the rounds.
summary() {  # summary NAME DFS_VALUES FIO_VALUES DIVISOR
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import statistics, sys
name, d, f, div = sys.argv[1], list(map(float, sys.argv[2].split())), list(map(float, sys.argv[3].split())), float(sys.argv[4])
ratios = [a / (b / div) for a, b in zip(d, f)]
print(f"| {name} | {statistics.median(d):.1f} MB/s | {statistics.median(f) / div:.1f} MB/s | "
      f"{statistics.median(ratios):.2f} [{min(ratios):.2f}, {max(ratios):.2f}] |")
PY
}
echo "| ${mb} MB, R=3, 3 servers on one disk | DFS | anchor (fio) | ratio median [range] |"
echo "|---|---|---|---|"
summary "write (anchor: fio write+fdatasync / 3)" "${dfs_w[*]}" "${fio_w[*]}" 3
summary "read (anchor: fio read of a local file)" "${dfs_r[*]}" "${fio_r[*]}" 1
if (( cold )); then
  summary "cold read, caches dropped (anchor: fio, the same)" "${dfs_rc[*]}" "${fio_rc[*]}" 1
else
  echo "(cold reads need root to drop the page cache: not measured)"
fi

# The coprocessor: an SSTable of about the same size (uncompressed), every value a number; the sum runs on a
# server holding it, against getting the whole file.
awk -v n=$((mb * 1024 * 1024 / 12)) 'BEGIN { for (i = 0; i < n; i++) printf "key%012d\t1\tput\t%d\n", i, i % 100000 }' \
  > "$work/rows.txt"
"$cairn" sst build "$work/rows.txt" "$work/scan.sst" --file-id 1 --compression none >/dev/null
rm -f "$work/rows.txt"
"$cairn" dfs put "$work/scan.sst" /bench/scan.sst --peers "$peers" --timeout-s 120 >/dev/null
s=$(now)
"$cairn" dfs scan /bench/scan.sst --aggregate sum --peers "$peers" --timeout-s 120 >"$work/scan.out" 2>"$work/scan.err" ||
  { echo "dfs_vs_disk: the scan failed: $(cat "$work/scan.err")" >&2; exit 1; }
e=$(now)
scan_s=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }')
s=$(now); "$cairn" dfs get /bench/scan.sst /dev/null --peers "$peers" --timeout-s 120; e=$(now)
get_s=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }')
echo
echo "coprocessor: $(cat "$work/scan.out"); $(cat "$work/scan.err")"
echo "coprocessor: the sum took ${scan_s} s next to the data; getting the file took ${get_s} s"

# Re-replication: node 3 joins, a non-master node holding copies of a fresh file dies.
serve 3
"$cairn" dfs put "$input" /bench/rerep --peers "$peers" -r 3 --timeout-s 120 >/dev/null
sleep 1  # node 3's first heartbeats
victim=$("$cairn" dfs stat /bench/rerep --peers "$peers" | sed -n 's/.*copies on \(.*\)/\1/p' | head -1 | tr , '\n' | grep -v '^0$' | head -1)
clean() { "$cairn" dfs fsck --peers "$peers" 2>/dev/null | grep -q "0 files under-replicated, 0 with lost chunks"; }
t0=$(now)
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null || true
for _ in $(seq 300); do clean || break; sleep 0.05; done  # until the master declares it dead
t_dead=$(now)
for _ in $(seq 3000); do clean && break; sleep 0.1; done
t1=$(now)
awk -v mb="$mb" -v s="$t0" -v d="$t_dead" -v e="$t1" -v v="$victim" 'BEGIN {
  printf "re-replication: node %d killed; declared dead after %.2f s; its %d MB re-protected %.2f s later: %.1f MB/s\n",
         v, d - s, mb, e - d, mb / (e - d) }'

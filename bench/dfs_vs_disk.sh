#!/usr/bin/env bash
# The DFS against the disk it runs on: a 3-node DFS (R=3, every copy on this machine's one
# disk, loopback TCP) writes and reads a file; fio writes the same bytes sequentially with an
# fdatasync per 2 MiB and reads them back, on the same file system. R=3 on one disk writes every
# byte three times, so the physical ceiling for DFS writes is a third of fio's rate; the table
# reports the DFS's write rate against that ceiling (the goal is 0.8) and its read rate against
# fio's read of a local file (the goal is 0.8). Each round runs both sides, the side that goes
# first alternating, so the shared machine's slow spells fall on both; the table shows the
# medians and the ratio's median and range over the rounds.
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
base=$((20000 + RANDOM % 20000))
peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2))"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" /dev/shm/cairn-dfs-bench.$$; }
trap cleanup EXIT

input=/dev/shm/cairn-dfs-bench.$$  # in memory: the bench times the DFS, not reading the input
head -c $((mb * 1024 * 1024)) /dev/urandom > "$input"
for i in 0 1 2; do
  "$cairn" dfs serve --id "$i" --dir "$work/n$i" --peers "$peers" 2>"$work/n$i.log" &
  pids+=($!)
done
for _ in $(seq 100); do "$cairn" dfs ls --peers "$peers" >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
rate() { awk -v mb="$mb" -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", mb / (e - s) }'; }
declare -a dfs_w dfs_r fio_w fio_r
dfs_round() {
  local r=$1 s e
  s=$(now); "$cairn" dfs put "$input" "/bench/r$r" --peers "$peers" --timeout-s 120 >/dev/null; e=$(now)
  dfs_w[$r]=$(rate "$s" "$e")
  s=$(now); "$cairn" dfs get "/bench/r$r" /dev/null --peers "$peers" --timeout-s 120; e=$(now)
  dfs_r[$r]=$(rate "$s" "$e")
  "$cairn" dfs rm "/bench/r$r" --peers "$peers" >/dev/null
}
fio_round() {
  local r=$1
  fio_w[$r]=$(fio --name=w --filename="$work/fio.dat" --rw=write --bs=2M --size="${mb}M" --fdatasync=1 \
    --ioengine=psync --output-format=terse 2>/dev/null | awk -F';' '{ printf "%.1f", $48 / 1024 }')
  fio_r[$r]=$(fio --name=r --filename="$work/fio.dat" --rw=read --bs=2M --size="${mb}M" --ioengine=psync \
    --output-format=terse 2>/dev/null | awk -F';' '{ printf "%.1f", $7 / 1024 }')
  rm -f "$work/fio.dat"
}
for r in $(seq "$rounds"); do
  if (( r % 2 )); then dfs_round "$r"; fio_round "$r"; else fio_round "$r"; dfs_round "$r"; fi
  echo "round $r: dfs write ${dfs_w[$r]} MB/s, read ${dfs_r[$r]} MB/s; fio write+fdatasync ${fio_w[$r]} MB/s, read ${fio_r[$r]} MB/s" >&2
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

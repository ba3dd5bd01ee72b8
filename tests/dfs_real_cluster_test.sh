#!/usr/bin/env bash
# The DFS for real: 4 `cairn dfs serve` processes on loopback TCP (nodes 0-2 hold the master's
# journal stream, nodes 0 and 1 are master candidates, all four hold chunks). A file is put (R=3) and read back
# byte for byte; a file server holding copies is killed, and the master re-replicates its
# chunks onto the others; a chunk file is corrupted on disk, and reads still return the sealed
# bytes (the bad copy is read around and reported), while the scrub finds it and the master
# repairs it; fsck is clean at the end. `cairn sst` reads an SSTable put on the DFS in place,
# and `cairn dfs scan` runs the coprocessor on it. Last, the serving master is killed and the
# standby candidate takes over.
set -euo pipefail
cairn=${1:?usage: dfs_real_cluster_test.sh PATH_TO_CAIRN}
dir=$(mktemp -d)
base=$((20000 + RANDOM % 12000))  # below the ephemeral ports (32768 up), which clients take
peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2)),3=127.0.0.1:$((base + 3))"
# Fast failure detection, so the test takes seconds; a slow scrub, so reads meet the damage first.
knobs=(--knob dfs_heartbeat_ms=200 --knob dfs_suspect_after_ms=1000 --knob dfs_dead_after_ms=2500
       --knob dfs_scrub_interval_ms=400 --knob dfs_repair_interval_ms=200 --knob dfs_chunk_bytes=262144
       --knob dfs_master_takeover_ms=1000 --knob dfs_hot_reads_per_s=10 --masters 0,1)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

# Node 3 is in the offline node set (analysis reads go there); the others are online.
start() {
  local set=online; [ "$1" = 3 ] && set=offline
  "$cairn" dfs serve --id "$1" --dir "$dir/n$1" --peers "$peers" --node-set "$set" "${knobs[@]}" 2>>"$dir/n$1.log" &
  pids[$1]=$!
}
fail() { echo "FAIL: $*"; for i in 0 1 2 3; do echo "--- node $i"; tail -20 "$dir/n$i.log"; done; exit 1; }
dfs() { "$cairn" dfs "$@" --peers "$peers" "${knobs[@]}" --timeout-s 10; }
holders() { dfs stat /f/data | sed -n 's/.*chunk [0-9]*\/0\t.*copies on \(.*\)/\1/p'; }

for i in 0 1 2 3; do start $i; done
head -c 3000000 /dev/urandom > "$dir/in"
for _ in $(seq 50); do dfs put "$dir/in" /f/data > /dev/null 2>&1 && break; sleep 0.2; done
dfs get /f/data "$dir/out" || fail "get"
cmp -s "$dir/in" "$dir/out" || fail "the file read back differs from the file put"
echo "ok: put 3 MB (R=3) and read it back exactly; chunk 0 on $(holders)"

# Kill a file server holding chunk 0 (not a master candidate: the failover comes last).
victim=$(holders | tr , '\n' | grep -v '^[01]$' | head -1)
kill -9 "${pids[$victim]}"; wait "${pids[$victim]}" 2>/dev/null || true
clean() { dfs fsck | grep -q "0 files under-replicated, 0 with lost chunks"; }
for _ in $(seq 100); do
  h=$(holders)
  [[ ",$h," != *",$victim,"* ]] && clean && break
  sleep 0.1
done
[[ ",$h," != *",$victim,"* ]] || fail "the master still counts dead node $victim's copy ($h)"
dfs fsck | grep -q "0 files under-replicated, 0 with lost chunks" || fail "not re-protected after node $victim died: $(dfs fsck)"
echo "ok: node $victim killed; its chunks re-replicated (chunk 0 on $h)"
start "$victim"

# Corrupt chunk 0 on every holder but one (a flipped byte in its data): R-1 bad copies. The
# restarted node's old copy counts again at its first report, and the master sheds the
# surplus: wait for R holders first, so that the one good copy is not the one shed.
sleep 1  # node $victim's first report
for _ in $(seq 100); do [ "$(holders | tr , '\n' | grep -c .)" = 3 ] && break; sleep 0.1; done
[ "$(holders | tr , '\n' | grep -c .)" = 3 ] || fail "chunk 0 is not on exactly R=3 servers: $(holders)"
targets=$(holders | tr , '\n' | tail -n +2 | paste -sd,)
for t in ${targets//,/ }; do
  python3 - "$(ls "$dir/n$t/chunks/"*-00000000.chunk)" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xFF
open(p, 'wb').write(b)
PY
done
declare -A bad  # the corrupt files' sums: each must be replaced (or removed) by the repair
for t in ${targets//,/ }; do bad[$t]=$(md5sum "$dir/n$t/chunks/"*-00000000.chunk | cut -d' ' -f1); done
replaced() {
  for t in "${!bad[@]}"; do
    f=$(ls "$dir/n$t/chunks/"*-00000000.chunk 2>/dev/null || true)
    [ -n "$f" ] && [ "$(md5sum "$f" | cut -d' ' -f1)" = "${bad[$t]}" ] && return 1
  done
  return 0
}
reported=0
# Each read picks a copy at random, one good of three: up to ten reads, until one meets damage.
for _ in $(seq 10); do
  dfs get /f/data "$dir/out" 2>"$dir/get.err" || fail "get with corrupt copies on nodes $targets"
  cmp -s "$dir/in" "$dir/out" || fail "a read returned other bytes with corrupt copies on nodes $targets"
  grep -q "bad copies read around" "$dir/get.err" && { reported=1; break; }
done
[ "$reported" = 1 ] || fail "ten reads never met a corrupt copy on nodes $targets"
for _ in $(seq 200); do
  replaced && clean && break
  sleep 0.1
done
replaced || fail "a corrupt copy of chunk 0 is still on disk on one of nodes $targets"
clean || fail "not repaired after corruption on nodes $targets: $(dfs fsck)"
echo "ok: corrupt copies on nodes $targets read around, found and replaced (chunk 0 on $(holders))"

# An SSTable where it lives: `cairn sst` reads dfs:PATH through the cluster, every chunk
# checked end to end, and answers as for the local file.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "key%06d\t%d\tput\t%d\n", i, 1 + i % 7, i }' > "$dir/rows.txt"
"$cairn" sst build "$dir/rows.txt" "$dir/t.sst" --file-id 9 --macroblock 64K > /dev/null || fail "sst build"
dfs put "$dir/t.sst" /sst/t.sst > /dev/null || fail "put the SSTable"
sst() { "$cairn" sst "$@" --peers "$peers" --masters 0,1 --timeout-s 10; }
unnamed() { sed 's/"file": "[^"]*", //'; }  # the same facts but for the name given
[ "$(sst info "dfs:/sst/t.sst" --json | unnamed)" = "$("$cairn" sst info "$dir/t.sst" --json | unnamed)" ] ||
  fail "sst info of the DFS copy differs from the local file's"
sst get "dfs:/sst/t.sst" key012345 | grep -q "12345" || fail "sst get through the DFS"
sst verify "dfs:/sst/t.sst" > /dev/null || fail "sst verify through the DFS"
set +e; sst info dfs:/sst/missing.sst > /dev/null 2>&1; code=$?; set -e
[ "$code" = 3 ] || fail "sst info of a missing DFS file exited $code, not 3 (unreadable)"
echo "ok: cairn sst info, get and verify read an SSTable on the DFS (a missing one is exit 3)"

# The coprocessor: scans run on a server holding the file, and only the answer comes back.
scan() { dfs scan /sst/t.sst "$@" 2>>"$dir/scan.err"; }
scan --aggregate sum | grep -q "matched 20000, sum 199990000" || fail "scan sum: $(scan --aggregate sum)"
scan --prefix key0123 | grep -q "matched 100$" || fail "scan count of a prefix: $(scan --prefix key0123)"
scan --int-min 100 --int-max 199 --aggregate max | grep -q "matched 100, max 199" || fail "scan with a value range"
[ "$(scan --from key000010 --aggregate rows --limit 3 | head -3 | cut -f1 | paste -sd,)" = "key000010,key000011,key000012" ] ||
  fail "scan rows"
grep -q "bytes not sent" "$dir/scan.err" || fail "scan did not report the bytes it saved"
echo "ok: dfs scan counts, sums, filters and returns rows next to the data; $(tail -1 "$dir/scan.err")"

# A hot file: four readers at once read a one-chunk file over and over; the master gives its
# chunk extra copies (all 4 servers) and lists them to readers, then takes them back once the
# reads stop.
head -c 100000 /dev/urandom > "$dir/hot"
dfs put "$dir/hot" /hot/f > /dev/null || fail "put the hot file"
hot_copies() { dfs stat /hot/f | sed -n 's/.*copies on \([0-9,]*\).*/\1/p' | tr , '\n' | grep -c .; }
readers=()
touch "$dir/reading"
for r in 1 2 3 4; do
  ( while [ -e "$dir/reading" ]; do dfs get /hot/f "$dir/hot.$r" 2>/dev/null || true; done ) & readers+=($!)
done
for _ in $(seq 100); do dfs stat /hot/f | grep -q "hot (" && [ "$(hot_copies)" = 4 ] && break; sleep 0.1; done
hot_line=$(dfs stat /hot/f | grep "chunk [0-9]")
rm -f "$dir/reading"; wait "${readers[@]}" 2>/dev/null || true  # each finishes its get and stops
dfs get /hot/f "$dir/hot.1" || fail "get the hot file after its readers stopped"
[[ "$hot_line" == *"hot ("* ]] && [ "$(echo "$hot_line" | sed 's/.*copies on \([0-9,]*\).*/\1/' | tr , '\n' | grep -c .)" = 4 ] ||
  fail "a chunk read by four readers at once did not get extra copies: $hot_line"
cmp -s "$dir/hot" "$dir/hot.1" || fail "the hot file read back differently"
for _ in $(seq 150); do [ "$(hot_copies)" = 3 ] && ! dfs stat /hot/f | grep -q "hot (" && break; sleep 0.1; done
[ "$(hot_copies)" = 3 ] || fail "the hot chunk kept its extra copies after the reads stopped: $(dfs stat /hot/f)"
echo "ok: a hot chunk got an extra copy ($(echo "$hot_line" | sed 's/.*\t\(copies on.*\)/\1/')) and gave it back when its reads stopped"

# Node sets: a file placed with a copy in the offline set, read by an analysis reader that
# prefers that set: every chunk comes from node 3.
head -c 1000000 /dev/urandom > "$dir/off"
dfs put "$dir/off" /off/f --node-set offline > /dev/null || fail "put with a copy in the offline set"
for _ in $(seq 50); do dfs stat /off/f | grep "chunk [0-9]" | grep -qv "copies on [0-9,]*3" || break; sleep 0.1; done
dfs stat /off/f | grep "chunk [0-9]" | grep -v "copies on.*3" && fail "a chunk of /off/f has no copy on offline node 3"
dfs get /off/f "$dir/off.out" --prefer-set offline -v 2>"$dir/off.err" || fail "get preferring the offline set"
cmp -s "$dir/off" "$dir/off.out" || fail "the offline-placed file reads back differently"
grep -q "chunks read from node 3 4$" "$dir/off.err" || fail "a reader preferring the offline set read elsewhere: $(cat "$dir/off.err")"
echo "ok: a file placed with a copy in the offline set; a reader preferring it read all 4 chunks from node 3"

dfs rm /f/data || fail "rm"
dfs get /f/data "$dir/out" 2>/dev/null && fail "a deleted file still reads"

# Master failover: the serving master (node 0 or 1, and a journal node) dies; the other
# candidate, standing by, sees the stream go still, fences it, replays it and serves.
serving=$(for n in 0 1; do sed -n "s/.*serving at epoch \([0-9]*\).*/\1 $n/p" "$dir/n$n.log" | tail -1; done |
          sort -n | tail -1 | cut -d' ' -f2)
[ -n "$serving" ] || fail "no candidate logged that it serves"
standby=$((1 - serving))
kill -9 "${pids[$serving]}"; wait "${pids[$serving]}" 2>/dev/null || true
t0=$(date +%s.%N)
for _ in $(seq 100); do dfs put "$dir/in" /f/after > /dev/null 2>&1 && break; sleep 0.2; done
dfs get /f/after "$dir/out" || fail "get after the master died"
cmp -s "$dir/in" "$dir/out" || fail "the file put after the failover reads back differently"
dfs stat /sst/t.sst > /dev/null || fail "a file written under the old master is gone after the failover"
grep -q "serving at epoch" "$dir/n$standby.log" || fail "node $standby never took over"
echo "ok: node $serving (the master) killed; node $standby took over, a file put $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s later reads back"
echo "dfs real cluster: passed"

#!/usr/bin/env bash
# The journal for real: 3 `cairn journal serve` processes on loopback TCP with real fsync; a
# writer appends; one node killed (the majority still takes appends); the leader killed (the
# others elect; a new writer fences and appends); the node restarted recovers its stream from
# disk and catches up. Each `journal bench` run is a new writer.
set -euo pipefail
cairn=${1:?usage: journal_real_cluster_test.sh PATH_TO_CAIRN}
dir=$(mktemp -d)
base=$((20000 + RANDOM % 12000))  # below the ephemeral ports (32768 up), which clients take
peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2))"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start() { "$cairn" journal serve --id "$1" --dir "$dir/n$1" --peers "$peers" --stream s 2>>"$dir/n$1.log" & pids[$1]=$!; }
fail() { echo "FAIL: $*"; for i in 0 1 2; do echo "--- node $i"; cat "$dir/n$i.log"; done; exit 1; }
info() { "$cairn" journal info s --peers "$peers" 2>/dev/null || true; }
leader() { info | sed -n 's/^node \([0-9]\): leader .*/\1/p' | head -1; }
wait_leader() {
  for _ in $(seq 50); do [ -n "$(leader)" ] && return 0; sleep 0.1; done
  fail "no leader"
}
appended() {  # appended APPENDERS: runs a short bench and prints how many appends it measured
  "$cairn" journal bench --peers "$peers" --stream s --appenders "$1" --seconds 0.5 --warmup-seconds 0 --json |
    sed -n 's/.*"appends_per_s": \([0-9.e+]*\).*/\1/p'
}
next_position() { info | sed -n "s/^node $1: .*positions \[[0-9]*, \([0-9]*\)).*/\1/p"; }

for i in 0 1 2; do start $i; done
wait_leader
echo "ok: leader $(leader)"
rate=$(appended 8)
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no appends with 3 nodes"
echo "ok: 3 nodes take appends ($rate/s)"

follower=$(( ($(leader) + 1) % 3 ))
kill -9 "${pids[$follower]}"; wait "${pids[$follower]}" 2>/dev/null || true
rate=$(appended 8)
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no appends with a follower down"
echo "ok: 2 nodes take appends with node $follower down ($rate/s)"

start "$follower"
sleep 0.5
l=$(leader)
kill -9 "${pids[$l]}"; wait "${pids[$l]}" 2>/dev/null || true
wait_leader
rate=$(appended 8)
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no appends after the leader died"
echo "ok: the others elected $(leader) after leader $l died; appends go on ($rate/s)"

start "$l"
want=""
for _ in $(seq 50); do
  want=$(next_position "$(leader)")
  got=$(next_position "$l")
  [ -n "$got" ] && [ "$got" = "$want" ] && break
  sleep 0.1
done
[ -n "$got" ] && [ "$got" = "$want" ] || fail "restarted node $l is at position ${got:-?}, the leader at $want"
grep -q "1 streams" "$dir/n$l.log" || fail "node $l did not recover its stream"
echo "ok: restarted node $l recovered and caught up to position $got"

other=$(( ($(leader) + 1) % 3 ))
"$cairn" journal transfer s --to "$other" --peers "$peers" >/dev/null || fail "transfer to $other"
[ "$(leader)" = "$other" ] || fail "node $other does not lead after the transfer (leader: $(leader))"
echo "ok: leadership transferred to $other"
# Shrink the stream to two replicas and grow it back (each a committed one-member change).
"$cairn" journal members s --set "$other,$(( (other + 1) % 3 ))" --peers "$peers" >/dev/null || fail "remove a member"
pair="$other,$(( (other + 1) % 3 ))"
[ "$(info | sed -n "s/^node $other: leader .*members \(.*\)/\1/p")" = "$(tr , '\n' <<<"$pair" | sort -n | paste -sd,)" ] ||
  fail "the leader does not report members $pair"
rate=$(appended 4)
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no appends with two members"
"$cairn" journal members s --set 0,1,2 --peers "$peers" >/dev/null || fail "add the member back"
rate=$(appended 4)
awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "no appends after the member came back"
echo "ok: membership changed to two replicas and back, appends went on"
echo "journal real cluster: passed"

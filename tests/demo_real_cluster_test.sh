#!/usr/bin/env bash
# The demo register for real: 3 processes on loopback TCP, a client writing and reading, one
# replica killed (the majority still serves), then restarted (it recovers from its disk).
set -euo pipefail
cairn=${1:?usage: demo_real_cluster_test.sh PATH_TO_CAIRN}
dir=$(mktemp -d)
base=$((20000 + RANDOM % 12000))  # below the ephemeral ports (32768 up), which clients take
peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2))"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start() { "$cairn" demo serve --id "$1" --dir "$dir/r$1" --peers "$peers" 2>>"$dir/r$1.log" & pids[$1]=$!; }
for i in 0 1 2; do start $i; done
sleep 0.5

expect() {  # expect WANT COMMAND...
  local want=$1; shift
  local got
  got=$("$cairn" demo "$@" --peers "$peers" --timeout-ms 5000)
  if [ "$got" != "$want" ]; then echo "FAIL: cairn demo $* printed '$got', want '$want'"; exit 1; fi
  echo "ok: cairn demo $* -> $got"
}

expect "(nil)" get color
expect OK put color blue
expect blue get color
kill -9 "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
expect OK put color green          # a majority (0, 1) still serves
expect green get color
kill -9 "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
start 2                             # replica 2 recovers its log; with 1 it is a majority again
sleep 0.3
expect green get color
start 0
sleep 0.3
expect OK put color red
expect red get color
grep -q "records" "$dir/r2.log" || { echo "FAIL: replica 2 logged no recovery"; cat "$dir/r2.log"; exit 1; }
echo "demo real cluster: passed"

#!/usr/bin/env bash
# Replays every regression in traces/:
#   *.seed  one line of `cairn sim run` arguments (a seed that once failed, with its flags);
#           it must pass now.
#   *.tape  a tape (`cairn sim run --record-tape`, `cairn sim shrink`); it must pass, unless a
#           line `# expect: fail CHECK` says it should fail that check (a shrunk canary). A
#           canary tape that no longer fails is reported STALE (the simulation changed under
#           it; tests/canary_test.cc is what gates the simulator's power), not a failure.
#   scripts/replay_traces.sh PATH_TO_CAIRN
set -euo pipefail
cairn=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"  # .seed files name scenario files relative to the repository
shopt -s nullglob
status=0
count=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in "$root"/traces/*.seed "$root"/traces/*.tape; do
  count=$((count + 1))
  name=$(basename "$f")
  if [[ $f == *.seed ]]; then
    args=$(grep -v '^#' "$f" | head -n 1)
    # shellcheck disable=SC2086
    if "$cairn" sim run $args > "$out"; then echo "pass: $name"; else echo "FAIL: $name"; cat "$out"; status=1; fi
    continue
  fi
  expect=$(sed -n 's/^# expect: fail \(.*\)$/\1/p' "$f" | head -n 1)
  set +e
  "$cairn" sim replay --tape "$f" > "$out"
  rc=$?
  set -e
  if [ -z "$expect" ]; then
    if [ $rc = 0 ]; then echo "pass: $name"; else echo "FAIL: $name"; cat "$out"; status=1; fi
  elif [ $rc = 1 ] && grep -qE "^    $expect +FAILED" "$out"; then
    echo "pass: $name (fails $expect, as expected)"
  elif [ $rc = 0 ] || [ $rc = 1 ]; then
    # A canary tape pins one exact schedule; a change to the simulation can move the bug off
    # it. The canaries' power is gated by tests/canary_test.cc; here a stale tape is a warning.
    echo "STALE: $name no longer fails $expect: re-shrink it (traces/README.md)"
  else
    echo "FAIL: $name could not be replayed"
    cat "$out"
    status=1
  fi
done
echo "$count regression traces replayed"
exit $status

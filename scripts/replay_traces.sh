#!/usr/bin/env bash
# Replays every regression in traces/: each *.seed file holds one `cairn sim run` argument
# line (a seed that once failed, with its flags) and must pass now.
#   scripts/replay_traces.sh PATH_TO_CAIRN
set -euo pipefail
cairn=$1
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
files=("$root"/traces/*.seed)
status=0
for f in "${files[@]}"; do
  args=$(grep -v '^#' "$f" | head -n 1)
  # shellcheck disable=SC2086
  if "$cairn" sim run $args > /tmp/cairn-replay.out; then
    echo "pass: $(basename "$f"): cairn sim run $args"
  else
    echo "FAIL: $(basename "$f"): cairn sim run $args"
    cat /tmp/cairn-replay.out
    status=1
  fi
done
echo "${#files[@]} regression seeds replayed"
exit $status

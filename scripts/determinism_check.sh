#!/usr/bin/env bash
# Determinism: each seed, run twice in separate processes, must give the same trace hash.
# On a mismatch, both runs are traced and the first divergent event is named.
#   scripts/determinism_check.sh PATH_TO_CAIRN SEED...
set -euo pipefail
cairn=$1; shift
status=0
for seed in "$@"; do
  a=$("$cairn" sim run --seed "$seed" | awk '/trace hash/ {print $3}')
  b=$("$cairn" sim run --seed "$seed" | awk '/trace hash/ {print $3}')
  if [ -n "$a" ] && [ "$a" = "$b" ]; then
    echo "seed $seed: $a twice: deterministic"
  else
    echo "seed $seed: NONDETERMINISTIC ($a vs $b)"
    tmp=$(mktemp -d)
    "$cairn" sim run --seed "$seed" --trace "$tmp/a.trace" > /dev/null || true
    "$cairn" sim run --seed "$seed" --trace "$tmp/b.trace" > /dev/null || true
    "$cairn" trace diff "$tmp/a.trace" "$tmp/b.trace" || true
    status=1
  fi
done
exit $status

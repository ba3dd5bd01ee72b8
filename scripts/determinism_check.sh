#!/usr/bin/env bash
# Determinism: each seed, run twice in separate processes, must give the same trace hash.
# On a mismatch, both runs are traced and the first divergent event is named.
#   scripts/determinism_check.sh PATH_TO_CAIRN SEED... [-- EXTRA `cairn sim run` ARGUMENTS]
set -euo pipefail
cairn=$1; shift
seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ $# -gt 0 ] && shift
extra=("$@")
status=0
for seed in "${seeds[@]}"; do
  a=$("$cairn" sim run --seed "$seed" "${extra[@]}" | awk '/trace hash/ {print $3}')
  b=$("$cairn" sim run --seed "$seed" "${extra[@]}" | awk '/trace hash/ {print $3}')
  if [ -n "$a" ] && [ "$a" = "$b" ]; then
    echo "seed $seed ${extra[*]}: $a twice: deterministic"
  else
    echo "seed $seed ${extra[*]}: NONDETERMINISTIC ($a vs $b)"
    tmp=$(mktemp -d)
    "$cairn" sim run --seed "$seed" "${extra[@]}" --trace "$tmp/a.trace" > /dev/null || true
    "$cairn" sim run --seed "$seed" "${extra[@]}" --trace "$tmp/b.trace" > /dev/null || true
    "$cairn" trace diff "$tmp/a.trace" "$tmp/b.trace" || true
    status=1
  fi
done
exit $status

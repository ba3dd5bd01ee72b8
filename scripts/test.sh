#!/usr/bin/env bash
# The whole test suite: set up and build, then
#   1. the runtime contract check and the layering check (and their self-tests),
#   2. every test (ctest: GoogleTest + RapidCheck units, simulations, the real 3-process cluster),
#   3. determinism across processes: several seeds run twice must give the same trace hash,
#   4. every seed that ever failed (traces/*.seed) replayed,
#   5. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (a Debug build),
#      and a Release build of the libraries and the tool (g++ warns differently at -O3),
#   6. a minute of libFuzzer on the SSTable reader (clang, ASan + UBSan).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
stage() {  # stage NAME COMMAND...
  local name=$1; shift
  echo
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

stage "setup and build" "$root/scripts/setup.sh" || true
stage "runtime contract" "$root/scripts/check_runtime_contract.sh" --self-test
stage "layering" "$root/scripts/check_layering.sh" --self-test
stage "tests" ctest --test-dir "$root/build" --output-on-failure -j 2 --timeout 900
stage "determinism across processes" "$root/scripts/determinism_check.sh" "$root/build/tools/cairn" 1 2 3 42
stage "determinism, the DFS workload" "$root/scripts/determinism_check.sh" "$root/build/tools/cairn" 1 2 -- -w dfs
stage "determinism, storage faults" "$root/scripts/determinism_check.sh" "$root/build/tools/cairn" 7 8 \
  -- --scenario "$root/sim/scenarios/storage.scenario"
stage "regression seeds (traces/)" "$root/scripts/replay_traces.sh" "$root/build/tools/cairn"
stage "sanitizer build" "$root/scripts/setup.sh" --asan
stage "unit tests under ASan+UBSan" ctest --test-dir "$root/build-asan" --output-on-failure -j 2 -L unit --timeout 900
release_build() {
  cmake -S "$root" -B "$root/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null &&
    cmake --build "$root/build-release" --target cairn -j "$(nproc)"
}
stage "Release build (warnings are errors)" release_build
stage "fuzzing the SSTable reader (60 s)" "$root/scripts/fuzz.sh" 60

echo
echo "test stages: $passed passed, $failed failed"
[ "$failed" = 0 ]

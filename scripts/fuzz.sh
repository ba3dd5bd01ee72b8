#!/usr/bin/env bash
# Fuzzes the SSTable reader and its decoders (tests/fuzz/sst_reader_fuzz.cc) with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, for SECONDS (default 60).
#
#   scripts/fuzz.sh [SECONDS]
#
# Builds in build-fuzz/ with clang (-DCAIRN_FUZZ=ON), only the fuzz target, the seed writer
# and what they need. Seeds (small valid SSTables and their payloads) are written into
# build-fuzz/corpus/, where libFuzzer also keeps the inputs it finds, so a later run goes on
# from there. A crashing input is written to build-fuzz/artifacts/ and the script exits
# non-zero; replay it with: build-fuzz/tests/fuzz/sst_reader_fuzz FILE
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=$root/build-fuzz

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAIRN_FUZZ=ON > /dev/null
ninja -C "$build" -j 2 sst_reader_fuzz sst_fuzz_seeds

mkdir -p "$build/corpus" "$build/artifacts"
"$build/tests/fuzz/sst_fuzz_seeds" "$build/corpus"
echo "fuzz: $(ls "$build/corpus" | wc -l) inputs in build-fuzz/corpus, ${seconds}s"
"$build/tests/fuzz/sst_reader_fuzz" -max_len=300000 -max_total_time="$seconds" -timeout=30 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 "$build/corpus"

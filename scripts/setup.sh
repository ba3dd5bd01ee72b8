#!/usr/bin/env bash
# Sets up everything Cairn needs on Debian 12 and builds it. Idempotent: installs only missing
# packages (as root, with apt-get), reuses an existing build directory, uses ccache if present.
#
#   scripts/setup.sh           build/       (RelWithDebInfo: the tools, tests and benchmarks)
#   scripts/setup.sh --asan    build-asan/  (the same under AddressSanitizer + UBSan)
#   scripts/setup.sh --bench   build/, with every anchor the benchmarks compare against
#                              (RocksDB, etcd, Redis, fio) installed first
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  g++ cmake ninja-build ccache pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler librapidcheck-dev libgtest-dev libgmock-dev
  libbenchmark-dev libzstd-dev liblz4-dev libcli11-dev libgflags-dev libasio-dev
  clang libclang-rt-14-dev  # libFuzzer, for scripts/fuzz.sh
)
if [ "${1:-}" = "--bench" ]; then
  # The anchors: bench/sst_bench and engine_bench link RocksDB; journal_vs_etcd.sh runs etcd
  # and speaks its gRPC API (gRPC's C++ library and protoc plugin); dfs_vs_disk.sh runs fio;
  # the Redis API's benchmarks (to come) run redis-server.
  packages+=(librocksdb-dev rocksdb-tools etcd-server libgrpc++-dev protobuf-compiler-grpc
             redis-server redis-tools python3-redis fio)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

build=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--asan" ]; then
  build=build-asan
  # -O1: symmetric transfer between coroutines needs tail calls, which -O0 does not make.
  flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" -DCAIRN_SANITIZE=ON)
fi
cmake -S "$root" -B "$root/$build" -G Ninja "${flags[@]}" > /dev/null
jobs=$(nproc)
echo "setup: building $build/ with $jobs jobs"
cmake --build "$root/$build" -j "$jobs"

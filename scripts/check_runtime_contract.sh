#!/usr/bin/env bash
# The runtime contract (docs/runtime.md): nothing under src/, sim/ or fault/ touches threads, clocks,
# randomness, sockets or files except through the runtime interfaces. Only src/runtime/real/
# may. This check greps the code (comments stripped) for the ways C++ reaches the world.
#
#   scripts/check_runtime_contract.sh [ROOT]     check ROOT (default: this repository)
#   scripts/check_runtime_contract.sh --self-test  prove the check catches each forbidden use
#
# To extend it: add a line to FORBIDDEN (an extended regex and the reason). To allow a new
# directory (only a runtime implementation should ever be), add it to ALLOWED.
set -euo pipefail

FORBIDDEN=(
  'std::(j)?thread\b|<thread>|std::async\b|<future>|\bpthread_[a-z_]+\(|<pthread\.h>|std::this_thread::|threads: use Executor and TaskGroup'
  '(system|steady|high_resolution|utc|tai|gps|file)_clock\b|\bgettimeofday\(|\bclock_gettime\(|\btime\((nullptr|NULL|0)\)|\blocaltime|\bgmtime|absl::Now\(|absl::GetCurrentTime|time: use Clock'
  '(^|[-+*/=(,;!{?:]|return)[[:space:]]*(s?rand|random)\(|random_device|<random>|\bmt19937|\bdrand48|\barc4random|getrandom\(|randomness: use Random'
  '(^|[^.>:[:alnum:]_])(socket|connect|accept4?)\(|\bbind\(.*sockaddr|\blisten\(|<sys/socket\.h>|<netinet/|<arpa/inet\.h>|\basio::|<asio|\bgetaddrinfo|sockets: use Network'
  '\bfopen\(|\bfreopen\(|std::(i|o)?fstream|<fstream>|<filesystem>|std::filesystem|<fcntl\.h>|<unistd\.h>|<sys/stat\.h>|\bfsync\(|\bfdatasync\(|\bopendir\(|::open\(|::pread\(|::pwrite\(|files: use Disk'
  '(^|[^.>:[:alnum:]_])(sleep|usleep|nanosleep)\(|sleeping: use Executor::SleepFor'
)
ALLOWED=(src/runtime/real/)
CHECKED_DIRS=(src sim fault)

check_tree() {
  local root=$1 failures=0
  local files
  files=$(cd "$root" && find "${CHECKED_DIRS[@]}" -type f \( -name '*.h' -o -name '*.cc' -o -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort)
  for f in $files; do
    local allowed=0
    for a in "${ALLOWED[@]}"; do [[ $f == "$a"* ]] && allowed=1; done
    [ $allowed = 1 ] && continue
    for rule in "${FORBIDDEN[@]}"; do
      local regex=${rule%|*} reason=${rule##*|}
      # Strip // comments and the contents of string literals before matching.
      local hits
      hits=$(sed -e 's|//.*$||' -e 's/"[^"]*"/""/g' "$root/$f" | grep -nE "$regex" || true)
      if [ -n "$hits" ]; then
        while IFS= read -r hit; do
          echo "$f:${hit%%:*}: ${reason}: ${hit#*:}"
        done <<< "$hits"
        failures=$((failures + 1))
      fi
    done
  done
  return $((failures > 0))
}

self_test() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/src/x" "$tmp/src/runtime/real" "$tmp/sim"
  local samples=(
    'std::thread t([]{});'
    'auto t = std::chrono::steady_clock::now();'
    'auto t = std::chrono::system_clock::now();'
    'int r = rand();'
    'std::random_device rd;'
    'int fd = socket(AF_INET, SOCK_STREAM, 0);'
    'FILE* f = fopen("x", "r");'
    'std::ofstream out("x");'
    'usleep(10);'
    '#include <thread>'
    'asio::io_context io;'
  )
  local caught=0
  for s in "${samples[@]}"; do
    echo "$s" > "$tmp/src/x/bad.cc"
    if check_tree "$tmp" > /dev/null; then
      echo "self-test FAILED: not caught: $s"
    else
      caught=$((caught + 1))
    fi
    echo "$s" > "$tmp/sim/bad.cc"
    rm "$tmp/src/x/bad.cc"
    if check_tree "$tmp" > /dev/null; then echo "self-test FAILED: not caught in sim/: $s"; caught=$((caught - 1)); fi
    rm "$tmp/sim/bad.cc"
  done
  # Allowed: the real runtime, comments, and string literals.
  echo 'std::thread t([]{});' > "$tmp/src/runtime/real/ok.cc"
  printf '%s\n' '// std::thread is forbidden here' 'const char* s = "rand()";' > "$tmp/src/x/ok.cc"
  if ! check_tree "$tmp"; then echo "self-test FAILED: flagged an allowed use"; return 1; fi
  echo "self-test: $caught of ${#samples[@]} forbidden uses caught"
  [ "$caught" = "${#samples[@]}" ]
}

if [ "${1:-}" = "--self-test" ]; then
  self_test
  root=$(cd "$(dirname "$0")/.." && pwd)
  check_tree "$root" && echo "runtime contract: $root is clean"
  exit $?
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check_tree "$root"; then
  echo "runtime contract: clean (src/, sim/ and fault/ reach the world only through the runtime)"
else
  echo "runtime contract: VIOLATED (see above; docs/runtime.md explains the contract)"
  exit 1
fi

# Sourced by the journal benchmarks: a 3-node Cairn journal on loopback.
#
#   journal_cluster_init BUILD_DIR   checks the binary, makes WORK_DIR (default: a fresh directory
#                                    under /var/tmp), picks ports, and removes it all on exit
#   journal_cluster_start ARGS...    starts three `cairn journal serve` (ARGS: their --stream
#                                    flags), sets $peers, waits until the last stream has a leader
#   journal_cluster_stop             stops them
#   field JSON NAME                  a number from a one-line JSON object
journal_cluster_init() {
  cairn="$1/tools/cairn"
  [ -x "$cairn" ] || { echo "missing $cairn: build first (cmake --build $1)"; exit 1; }
  work=${WORK_DIR:-$(mktemp -d /var/tmp/cairn-journal-bench.XXXXXX)}
  base=$((21000 + RANDOM % 11000))  # below the ephemeral ports (32768 up), which clients take
  pids=()
  trap journal_cluster_cleanup EXIT
}

journal_cluster_cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

journal_cluster_start() {
  peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2))"
  for i in 0 1 2; do
    "$cairn" journal serve --id $i --dir "$work/cairn$i" --peers "$peers" "$@" 2>>"$work/cairn$i.log" &
    pids+=($!)
  done
  local last=${*: -1}
  for attempt in $(seq 100); do
    "$cairn" journal info "$last" --peers "$peers" 2>/dev/null | grep -q leader && break
    sleep 0.2
  done
}

journal_cluster_stop() {
  kill "${pids[@]}"
  wait 2>/dev/null || true
  pids=()
}

field() { sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p" <<<"$1"; }

#!/usr/bin/env bash
# The layering (docs/architecture.md, "Layers"): which folder's code may include which. Lower
# layers never include higher ones, so the engine cannot reach into the simulator, the
# simulator core cannot reach into the harness, and the history checker stays a library of
# computation alone. Every folder of code must have a rule: a new folder fails the check until
# it says where it sits.
#
#   scripts/check_layering.sh [ROOT]      check ROOT (default: this repository)
#   scripts/check_layering.sh --self-test plant a violation of each rule and prove it is caught
#
# A rule is `FOLDER: FOLDERS IT MAY INCLUDE FROM` (its own folder always). `*` allows every
# folder of the project. The longest folder that matches a file's path is its rule.
set -euo pipefail

RULES=(
  'src/base:'
  'src/runtime: src/base'
  'src/runtime/real: src/base src/runtime'
  'src/rpc: src/base src/runtime'
  'src/storage: src/base src/runtime'
  'src/format: src/base src/runtime src/storage'
  'src/lsm: src/base src/runtime src/storage src/format'
  'src/journal: src/base src/runtime src/rpc src/storage src/format src/lsm'
  'src/dfs: src/base src/runtime src/rpc src/storage src/format src/lsm src/journal'
  'src/master: src/base src/runtime src/rpc src/storage src/format src/lsm src/journal src/dfs'
  'src/demo: src/base src/runtime src/rpc src/storage'
  'sim/check: src/base'
  'sim/core: src/base src/runtime'
  'fault: src/base src/runtime sim/core'
  'sim/harness: src/base src/runtime src/rpc src/storage src/format src/lsm src/journal src/dfs src/master src/demo sim/core sim/check fault'
  'tools: *'
  'tests: *'
  'bench: *'
)
# The folders a project include can name, longest first (so src/runtime/real wins over src/runtime).
FOLDERS=(src/runtime/real src/base src/runtime src/rpc src/storage src/format src/lsm src/journal src/demo
         src/dfs src/jobs src/master src/cache src/node sim/core sim/check sim/harness fault tools tests bench)
CHECKED_DIRS=(src sim fault tools tests bench)

# The rule's folder for a path, or empty.
rule_folder() {
  local path=$1 best=""
  for rule in "${RULES[@]}"; do
    local folder=${rule%%:*}
    if [[ $path == "$folder/"* ]] && [ ${#folder} -gt ${#best} ]; then best=$folder; fi
  done
  echo "$best"
}

allowed_for() {
  local folder=$1
  for rule in "${RULES[@]}"; do
    if [ "${rule%%:*}" = "$folder" ]; then echo "${rule#*:}"; return; fi
  done
}

# The project folder an include path names, or empty (a system or third-party header).
include_folder() {
  local inc=$1
  for f in "${FOLDERS[@]}"; do
    if [[ $inc == "$f/"* ]]; then echo "$f"; return; fi
  done
}

check_tree() {
  local root=$1 failures=0
  local files
  files=$(cd "$root" && find "${CHECKED_DIRS[@]}" -type f \( -name '*.h' -o -name '*.cc' \) \
            -not -path 'tests/fuzz/compat/*' 2>/dev/null | sort)
  for f in $files; do
    local folder
    folder=$(rule_folder "$f")
    if [ -z "$folder" ]; then
      echo "$f: no layering rule covers $(dirname "$f")/ (add one to scripts/check_layering.sh)"
      failures=$((failures + 1))
      continue
    fi
    local allowed
    allowed=$(allowed_for "$folder")
    [ "$(echo "$allowed" | tr -d ' ')" = "*" ] && continue
    while IFS=: read -r line inc; do
      [ -z "$inc" ] && continue
      local target
      target=$(include_folder "$inc")
      [ -z "$target" ] && continue
      [ "$target" = "$folder" ] && continue
      local ok=0
      for a in $allowed; do [ "$a" = "$target" ] && ok=1; done
      if [ $ok = 0 ]; then
        echo "$f:$line: $folder may not include $inc ($target is not below it; allowed: ${allowed:- nothing})"
        failures=$((failures + 1))
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$root/$f" |
             sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]*)".*/\1:\2/')
  done
  return $((failures > 0))
}

self_test() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local planted=0 caught=0
  # For each restricted rule: one include of a project folder it may not use.
  for rule in "${RULES[@]}"; do
    local folder=${rule%%:*} allowed=${rule#*:}
    [ "$(echo "$allowed" | tr -d ' ')" = "*" ] && continue
    local forbidden=""
    for f in "${FOLDERS[@]}"; do
      [ "$f" = "$folder" ] && continue
      local ok=0
      for a in $allowed; do [ "$a" = "$f" ] && ok=1; done
      # A subfolder of this folder counts as this folder's own (src/runtime/real under src/runtime).
      [[ $f == "$folder/"* ]] && ok=1
      if [ $ok = 0 ]; then forbidden=$f; break; fi
    done
    [ -z "$forbidden" ] && continue
    mkdir -p "$tmp/$folder"
    printf '#include "%s/x.h"\n' "$forbidden" > "$tmp/$folder/planted.cc"
    planted=$((planted + 1))
    if check_tree "$tmp" > /dev/null; then
      echo "self-test FAILED: $folder including $forbidden/ was not caught"
    else
      caught=$((caught + 1))
    fi
    rm "$tmp/$folder/planted.cc"
  done
  # A folder with no rule.
  mkdir -p "$tmp/src/newthing"
  echo '#include "src/base/check.h"' > "$tmp/src/newthing/a.cc"
  planted=$((planted + 1))
  if check_tree "$tmp" > /dev/null; then echo "self-test FAILED: a folder without a rule was not caught"; else caught=$((caught + 1)); fi
  rm -r "$tmp/src/newthing"
  # Allowed includes pass.
  mkdir -p "$tmp/src/lsm" "$tmp/tools"
  printf '#include "src/format/sst_reader.h"\n#include "absl/status/status.h"\n#include <vector>\n' > "$tmp/src/lsm/ok.cc"
  echo '#include "sim/harness/tape.h"' > "$tmp/tools/ok.cc"
  if ! check_tree "$tmp"; then echo "self-test FAILED: flagged an allowed include"; return 1; fi
  echo "layering self-test: $caught of $planted planted violations caught"
  [ "$caught" = "$planted" ]
}

if [ "${1:-}" = "--self-test" ]; then
  self_test
  root=$(cd "$(dirname "$0")/.." && pwd)
  check_tree "$root" && echo "layering: $root is clean"
  exit $?
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check_tree "$root"; then
  echo "layering: clean (every include points down; docs/architecture.md draws the layers)"
else
  echo "layering: VIOLATED (see above; docs/architecture.md draws the layers)"
  exit 1
fi

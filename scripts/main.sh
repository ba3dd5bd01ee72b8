#!/usr/bin/env bash
# The main job: set up, build, then a seeded chaos simulation of the demo cluster, with a
# readable summary and the command that replays it. Pass a seed to choose it (default 1);
# any further arguments go to `cairn sim run`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" > /tmp/cairn-setup.log 2>&1 || { cat /tmp/cairn-setup.log; exit 1; }
seed=${1:-1}
shift || true
cd "$root/build"
exec ./tools/cairn sim run --seed "$seed" "$@"

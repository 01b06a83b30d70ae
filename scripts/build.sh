#!/usr/bin/env bash
# Configures and builds snn.cpp (Release, Ninja, ccache) into build/.
# Runs scripts/setup.sh first, so that it works on a fresh machine.
# SNN_BUILD_TARGETS (e.g. "snn_cli") builds only those targets; default: everything.
# Prints how long the set-up and the build took.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
t0=$SECONDS
"$SNN_ROOT/scripts/setup.sh"
t1=$SECONDS
cmake -S "$SNN_ROOT" -B "$SNN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSNN_PYTHON="$SNN_VENV/bin/python" -DSNN_BUILD_TESTS=ON "$@" >/dev/null
targets=()
for t in ${SNN_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$SNN_BUILD_DIR" "${targets[@]}"
echo "build.sh: set-up $((t1 - t0)) s, build $((SECONDS - t1)) s" >&2

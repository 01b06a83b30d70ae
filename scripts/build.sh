#!/usr/bin/env bash
# Configures and builds snn.cpp (Release, Ninja, ccache) into build/.
# Runs scripts/setup.sh first, so that it works on a fresh machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SNN_ROOT/scripts/setup.sh"
cmake -S "$SNN_ROOT" -B "$SNN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSNN_PYTHON="$SNN_VENV/bin/python" -DSNN_BUILD_TESTS=ON "$@" >/dev/null
cmake --build "$SNN_BUILD_DIR"

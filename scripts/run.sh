#!/usr/bin/env bash
# The main job: builds snn.cpp (installing everything on a fresh machine) and runs the
# quickstart: a two-layer spiking network trained with BPTT to emit 10 spikes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SNN_ROOT/scripts/build.sh"
exec "$SNN_BUILD_DIR/quickstart" "$@"

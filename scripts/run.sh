#!/usr/bin/env bash
# The main job: builds what it needs of snn.cpp (the library and the `snn` CLI; installing
# everything on a fresh machine), makes the embedded spoken-digits dataset (once; cached),
# and runs `snn compare`: the SHD tutorial's MLP with synaptic delays (the preset
# delay-mlp; --preset shd-mlp for the tutorial's own) trained with IAF, LIF and ALIF
# neurons on the same data and seed, then a table of test accuracy, synops per sample,
# firing rate and training time. Extra arguments go to `snn compare` (e.g. --epochs 10,
# --run-dir DIR, --config FILE.toml). Each phase's time is printed (set-up, build, data,
# training).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SNN_BUILD_TARGETS=snn_cli "$SNN_ROOT/scripts/build.sh"
exec "$SNN_BUILD_DIR/snn" compare "$@"

#!/usr/bin/env bash
# Builds snn.cpp and runs every test: the C++ tests (GoogleTest, CLI, example, install)
# through CTest, then the pytest parity suite against Sinabs.
# On a fresh machine it first installs everything (scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SNN_ROOT/scripts/build.sh"
ctest --test-dir "$SNN_BUILD_DIR" --output-on-failure -j "$(nproc)"
cd "$SNN_ROOT"
SNN_BUILD_DIR="$SNN_BUILD_DIR" "$SNN_VENV/bin/python" -m pytest tests/parity -q -p no:cacheprovider

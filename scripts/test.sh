#!/usr/bin/env bash
# Builds snn.cpp and runs every test through CTest: the C++ tests (GoogleTest, CLI,
# examples, install, portable builds, fuzzing) and the pytest parity suite against the
# Python libraries (registered as the CTest tests parity.neurons and parity.other), and the
# Python package built as a wheel, installed and tested (python.install, python.package).
# On a fresh machine it first installs everything (scripts/setup.sh).
# `ctest --test-dir build -LE slow` runs the quick part alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$SNN_ROOT/scripts/build.sh"
ctest --test-dir "$SNN_BUILD_DIR" --output-on-failure -j "$(nproc)"

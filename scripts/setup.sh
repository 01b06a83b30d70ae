#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12 machine:
#   1. Debian packages (compiler tools, Ninja, ccache, HDF5, libpng, giflib, eSpeak NG, Gloo's headers,
#      libsndfile, CLI11, toml++, GoogleTest; gnuplot draws the reports' plots, Chromium
#      renders a report in the tests);
#   2. a Python virtual environment with the pinned torch wheel (LibTorch comes from it)
#      and the test oracles, in a cache outside the checkout keyed by the lock file's hash.
# A second run with nothing changed returns in seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

fail() { echo "setup: $*" >&2; exit 1; }

# --- 1. Debian packages ------------------------------------------------------
APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config libhdf5-dev zlib1g-dev
              libpng-dev libgif-dev libespeak-ng-dev espeak-ng-data flite1-dev libsndfile1-dev
              libcli11-dev libtomlplusplus-dev libgtest-dev libgmock-dev libgloo-dev python3-venv
              gnuplot-nox chromium
              clang-14 libclang-rt-14-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install of ${missing[*]} failed"
fi

# --- 2. Python environment ---------------------------------------------------
# Oracles added after the environment was made (pure Python, requirements-extra.lock)
# go into it, stamped by their own file's hash, so that adding one does not make a new
# environment (nor a new LibTorch, nor a rebuild).
install_extras() {
  local stamp="$SNN_VENV/.extra-$(sha256sum "$SNN_EXTRA_LOCK" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  echo "setup: installing scripts/requirements-extra.lock into $SNN_VENV"
  "$SNN_VENV/bin/python" -m pip install -q --no-input --no-deps -r "$SNN_EXTRA_LOCK" \
    || fail "pip install -r scripts/requirements-extra.lock failed (see pip's message above)"
  "$SNN_VENV/bin/python" -c "import spikingtorch, nir, nirtorch, scikit_build_core" \
    || fail "the environment at $SNN_VENV cannot import spikingtorch, nir, nirtorch and scikit_build_core"
  touch "$stamp"
}
if [ -f "$SNN_VENV/.complete" ]; then
  install_extras
  exit 0
fi
PYTHON="${SNN_PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || fail "no $PYTHON on PATH (set SNN_PYTHON to a Python 3.11 interpreter)"
echo "setup: creating $SNN_VENV from scripts/requirements.lock (a few GB; once per lock file)"
mkdir -p "$SNN_CACHE_DIR"
# The stamp file .complete is written last: a half-made environment is never used.
rm -rf "$SNN_VENV"
"$PYTHON" -m venv "$SNN_VENV" || fail "python -m venv failed (is python3-venv installed?)"
"$SNN_VENV/bin/python" -m pip install -q --upgrade pip \
  || fail "pip upgrade failed: is PyPI reachable?"
"$SNN_VENV/bin/python" -m pip install -q --no-input --no-deps -r "$SNN_LOCK" \
  || fail "pip install -r scripts/requirements.lock failed (see pip's message above: a download failed or PyPI no longer serves a pinned version)"
"$SNN_VENV/bin/python" -c "import torch, sinabs, snntorch, tonic, nir, h5py, numpy, pytest, norse.torch, spikingjelly.activation_based.neuron" \
  || fail "the new environment at $SNN_VENV cannot import its packages"
touch "$SNN_VENV/.complete"
install_extras
echo "setup: environment ready at $SNN_VENV"

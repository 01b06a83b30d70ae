#!/usr/bin/env bash
# The Python package snncpp as its users get it: builds the wheel from this checkout
# (`pip wheel .`, with the environment's pinned torch), installs it into a scratch virtual
# environment, and runs tests/python there against the installed package.
#   scripts/python_package.sh install WORK_DIR   # wheel + scratch environment in WORK_DIR
#   scripts/python_package.sh test WORK_DIR [pytest arguments]
# The scratch environment sees the toolchain environment's packages (torch, and Sinabs,
# snnTorch and Tonic as oracles) through a .pth file, but snncpp only as installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mode="${1:?usage: python_package.sh install|test WORK_DIR}"
work="${2:?usage: python_package.sh install|test WORK_DIR}"
shift 2
env_dir="$work/env"
case "$mode" in
  install)
    rm -rf "$work/wheels"
    mkdir -p "$work/wheels"
    # --no-build-isolation: the build uses this environment's torch (the one pinned in
    # pyproject.toml) instead of downloading it again into an isolated one.
    "$SNN_VENV/bin/python" -m pip wheel -q --no-input --no-build-isolation --no-deps \
      -w "$work/wheels" "$SNN_ROOT"
    wheels=("$work"/wheels/snncpp-*.whl)
    [ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "python_package: no single wheel in $work/wheels" >&2; exit 1; }
    rm -rf "$env_dir"
    "$SNN_VENV/bin/python" -m venv --without-pip "$env_dir"
    site="$("$env_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$SNN_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
      > "$site/snn-toolchain.pth"
    "$SNN_VENV/bin/python" -m pip --python "$env_dir/bin/python" install -q --no-input \
      --no-deps "${wheels[0]}"
    echo "python_package: installed ${wheels[0]##*/} into $env_dir"
    ;;
  test)
    [ -x "$env_dir/bin/python" ] || { echo "python_package: no environment at $env_dir: run 'install' first" >&2; exit 1; }
    cd "$SNN_ROOT"
    unset SNNCPP_LIBRARY
    SNNCPP_REQUIRE_INSTALLED=1 exec "$env_dir/bin/python" -m pytest -q -p no:cacheprovider tests/python "$@"
    ;;
  *) echo "python_package: unknown mode '$mode' (install or test)" >&2; exit 2 ;;
esac

# Shared by the scripts in this folder: where the toolchain cache lives.
# Source it; it defines SNN_ROOT, SNN_CACHE_DIR, SNN_LOCK, SNN_EXTRA_LOCK, SNN_VENV.
SNN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SNN_CACHE_DIR="${SNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/snn.cpp}"
SNN_LOCK="$SNN_ROOT/scripts/requirements.lock"
SNN_EXTRA_LOCK="$SNN_ROOT/scripts/requirements-extra.lock"
SNN_LOCK_HASH="$(sha256sum "$SNN_LOCK" | cut -c1-16)"
SNN_VENV="$SNN_CACHE_DIR/venv-$SNN_LOCK_HASH"
SNN_BUILD_DIR="${SNN_BUILD_DIR:-$SNN_ROOT/build}"
export CCACHE_DIR="${CCACHE_DIR:-$SNN_CACHE_DIR/ccache}"
# Precompiled headers and ccache: these sloppiness settings let ccache reuse PCH builds.
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# Paths relative to the checkout, so that a fresh clone (CI) hits the same cache entries.
export CCACHE_BASEDIR="$SNN_ROOT"
export CCACHE_NOHASHDIR=1

#!/usr/bin/env bash
# Builds snn.cpp (library, CLI, examples, every test) with sanitizers into build-<mode>/ and
# runs the test suite on it.
#
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer (UB aborts):
#                              every CTest test but the slow build checks, then the parity
#                              suite with the sanitizer runtime preloaded into Python
#   scripts/sanitize.sh tsan   ThreadSanitizer over the tests of the threaded paths that
#                              do not run on OpenMP (the dataset loader's worker threads,
#                              the caches, the allocators, the spoken-digits generator's
#                              workers, HDF5 files opened and read from several threads)
#
# Extra arguments go to ctest (e.g. -R NeuronOp). LibTorch itself is not instrumented.
# ThreadSanitizer cannot see OpenMP's barriers (libgomp is not instrumented), so the
# at::parallel_for paths (the neuron kernels, ToFrame, the N-MNIST chunked decoder) are
# checked under ASan only: under TSan they report the join at the end of a parallel region
# as a race.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MODE="${1:-}"
shift || true
case "$MODE" in
  asan) FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
  tsan) FLAGS="-fsanitize=thread -fno-omit-frame-pointer" ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan [ctest arguments]" >&2; exit 2 ;;
esac
"$SNN_ROOT/scripts/setup.sh"
BUILD="$SNN_ROOT/build-$MODE"
cmake -S "$SNN_ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSNN_PYTHON="$SNN_VENV/bin/python" -DSNN_BUILD_TESTS=ON -DSNN_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$FLAGS" \
  -DCMAKE_SHARED_LINKER_FLAGS="$FLAGS" >/dev/null
cmake --build "$BUILD"

SUPP="$SNN_ROOT/scripts/sanitizers"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$SUPP/ubsan.supp"
if [[ "$MODE" == asan ]]; then
  # LibTorch's own allocations at exit are not ours to chase: leaks are checked in the C++
  # tests only, with LibTorch's static allocations suppressed.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:suppressions=$SUPP/asan.supp"
  export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
  ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)" -LE "slow" "$@"
  # Python is not instrumented: the runtime is preloaded, leak checking off (CPython's
  # interned objects), the driver programs (instrumented) check their own.
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" \
    ctest --test-dir "$BUILD" --output-on-failure -L parity "$@"
else
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp"
  ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)" \
    -R "Dataset|Cache|PadTensors|Loader|SpokenDigits|HSDFilesOpenAndRead" "$@"
fi
echo "sanitize: $MODE clean"

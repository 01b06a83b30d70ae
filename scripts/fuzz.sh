#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang, AddressSanitizer and UndefinedBehaviorSanitizer,
# compiling the sources under test directly, and fuzzes each target for a bounded time:
#   the event file readers (fuzz/fuzz_reader.cpp: nmnist evt2 evt3 dat aedat3),
#   the SHD / SSC HDF5 reader (fuzz/fuzz_hsd.cpp: hsd as users open files, HDF5 reading
#   them in a child process first; hsd-direct with the file read in the fuzzer's process,
#   where the sanitizers see HDF5's own memory errors),
#   the text parsers of transforms, representations, slicers and neuron specifications
#   (fuzz/fuzz_text.cpp: text).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=20] [WORK_DIR=build/fuzz] [TARGET ...]
#
# TARGET: nmnist evt2 evt3 dat aedat3 hsd hsd-direct text (default: all but hsd-direct).
# Seeds: fuzz/corpus/<target> (hsd: small SHD files made by h5py at run time); new inputs go
# to WORK_DIR/corpus/<target>, crashes to WORK_DIR/<target>-crash-*. The hsd target replays
# fuzz/findings and every input that broke hsd-direct in WORK_DIR first: each must be an
# error there. Exits 77 (CTest's skip; 1 when CI=true) when no clang++ with libFuzzer is
# found. SNN_FUZZ_CXX picks the compiler, SNN_FUZZ_MAX_LEN the longest input (default 8192
# bytes), SNN_TORCH_DIR the torch package, SNN_FUZZ_ARGS adds libFuzzer flags (e.g.
# "-fork=2 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1" to collect every finding of
# a long hsd-direct run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SECONDS_PER_READER="${1:-20}"
WORK_DIR="${2:-$SNN_BUILD_DIR/fuzz}"
shift $(( $# > 2 ? 2 : $# ))
READERS=("$@")
[[ ${#READERS[@]} -gt 0 ]] || READERS=(nmnist evt2 evt3 dat aedat3 hsd text)

# In CI (CI=true) a missing fuzzer toolchain is a failure, not a skip.
SKIP=77
[[ "${CI:-}" == true ]] && SKIP=1
CXX="${SNN_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}"
if [[ -z "$CXX" ]]; then
  echo "fuzz: no clang++ found (apt-get install clang-14 libclang-rt-14-dev); skipped"
  exit $SKIP
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    "$CXX" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz: $CXX cannot link -fsanitize=fuzzer (install libclang-rt-14-dev); skipped"
  exit $SKIP
fi
if [[ -z "${SNN_TORCH_DIR:-}" ]]; then
  SNN_TORCH_DIR="$("$SNN_VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
fi

mkdir -p "$WORK_DIR"
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -D_GLIBCXX_USE_CXX11_ABI=1 -Iinclude -Isrc
       -isystem "$SNN_TORCH_DIR/include" -isystem "$SNN_TORCH_DIR/include/torch/csrc/api/include")
TORCH_LIBS=(-L"$SNN_TORCH_DIR/lib" -ltorch_cpu -lc10 -Wl,-rpath,"$SNN_TORCH_DIR/lib")
# build NAME SOURCES... -- LINK_FLAGS...: rebuilt only when a source or header is newer.
build() {
  local name="$1"; shift
  local sources=() link=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do sources+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  link=("$@")
  local bin="$WORK_DIR/$name"
  if [[ ! -x "$bin" ]] || [[ -n "$(cd "$SNN_ROOT" && find "${sources[@]}" src include -newer "$bin" \
        -name '*.h' -o -newer "$bin" -name '*.cpp' 2>/dev/null | head -1)" ]]; then
    echo "fuzz: building $bin with $CXX"
    (cd "$SNN_ROOT" && "$CXX" "${FLAGS[@]}" "${sources[@]}" "${link[@]}" -o "$bin")
  fi
}

harness_of() {
  case "$1" in
    hsd|hsd-direct) echo fuzz_hsd ;;
    text) echo fuzz_text ;;
    *) echo fuzz_reader ;;
  esac
}
needed=" $(for r in "${READERS[@]}"; do harness_of "$r"; done | sort -u | tr '\n' ' ')"
if [[ "$needed" == *" fuzz_reader "* ]]; then
  build fuzz_reader fuzz/fuzz_reader.cpp src/util/atomic_file.cpp src/events/column.cpp \
    src/events/io/source.cpp src/events/io/nmnist.cpp src/events/io/prophesee.cpp \
    src/events/io/aedat.cpp -- -L"$SNN_TORCH_DIR/lib" -lc10 -Wl,-rpath,"$SNN_TORCH_DIR/lib"
fi
EVENTS=(src/events/events.cpp src/events/column.cpp src/util/atomic_file.cpp)
if [[ "$needed" == *" fuzz_hsd "* ]]; then
  build fuzz_hsd fuzz/fuzz_hsd.cpp src/events/io/hsd.cpp src/util/hdf5_lock.cpp src/util/hdf5_util.cpp "${EVENTS[@]}" -- \
    -I/usr/include/hdf5/serial -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 "${TORCH_LIBS[@]}"
  # Seeds: SHD files with float64 and float16 times, speakers and keys (h5py).
  mkdir -p "$WORK_DIR/seeds/hsd"
  "$SNN_VENV/bin/python" - "$WORK_DIR/seeds/hsd" <<'PY'
import sys, h5py, numpy as np
out = sys.argv[1]
for k, tdtype in enumerate([np.float64, np.float16]):
    with h5py.File(f"{out}/seed{k}.h5", "w") as f:
        times = f.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(tdtype))
        units = f.create_dataset("spikes/units", (3,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(3):
            times[i] = np.sort(np.random.default_rng(i).random(5 + i)).astype(tdtype)
            units[i] = np.arange(5 + i, dtype=np.uint16) * 37 % 700
        f["labels"] = np.array([0, 3, 7], dtype=np.uint16)
        f["extra/speaker"] = np.array([1, 2, 3], dtype=np.uint16)
        f["extra/keys"] = np.array([b"zero", b"one"])
PY
fi
if [[ "$needed" == *" fuzz_text "* ]]; then
  build fuzz_text fuzz/fuzz_text.cpp src/util/text_spec.cpp src/ops/neuron_spec.cpp \
    src/events/transforms/transforms.cpp src/events/transforms/downsampling.cpp \
    src/events/transforms/sparse.cpp src/events/transforms/representations.cpp \
    src/events/transforms/slicers.cpp src/events/stats.cpp "${EVENTS[@]}" -- "${TORCH_LIBS[@]}"
fi

# Leaks inside libraries that are not snn.cpp's (HDF5's on corrupt files) are suppressed.
export LSAN_OPTIONS="suppressions=$SNN_ROOT/scripts/sanitizers/fuzz_lsan.supp:print_suppressions=0"
status=0
for reader in "${READERS[@]}"; do
  mkdir -p "$WORK_DIR/corpus/$reader"
  seeds="$SNN_ROOT/fuzz/corpus/$reader"
  max_len=8192
  if [[ "$reader" == hsd* ]]; then
    seeds="$WORK_DIR/seeds/hsd"
    max_len=65536  # an SHD file of three samples is about 9 KB
  fi
  echo "fuzz: $reader for ${SECONDS_PER_READER}s"
  extra=()
  asan="${ASAN_OPTIONS:-}"
  if [[ "$reader" == hsd ]]; then
    # Past findings, and what broke hsd-direct here, are replayed first: they must be errors,
    # not crashes or hangs.
    extra=("$SNN_ROOT/fuzz/findings")
    found=()
    for f in "$WORK_DIR"/hsd-direct-{crash,oom,timeout,leak}-*; do [[ -e "$f" ]] && found+=("$f"); done
    if [[ ${#found[@]} -gt 0 ]]; then
      rm -rf "$WORK_DIR/replay-hsd" && mkdir -p "$WORK_DIR/replay-hsd"
      cp "${found[@]}" "$WORK_DIR/replay-hsd/"
      echo "fuzz: hsd replays ${#found[@]} inputs that broke hsd-direct"
      extra+=("$WORK_DIR/replay-hsd")
    fi
  fi
  if [[ "$reader" == hsd* ]]; then
    # HDF5 sizes some allocations from the file and fails cleanly when malloc returns null
    # (a corrupt local heap asks for 100 TB); ASan would abort on such a request instead.
    asan="allocator_may_return_null=1${asan:+:$asan}"
  fi
  if [[ "$reader" == hsd ]]; then
    # The child that reads each input first asks HDF5's size claims of malloc (4 GB for a
    # corrupt object header: fuzz/findings), untouched and harmless there; libFuzzer's
    # malloc limit would stop each such child with an artifact of its own. The memory the
    # fuzzer's process really uses stays bounded by -rss_limit_mb.
    extra+=(-malloc_limit_mb=16384)
  fi
  # SNN_FUZZ_REPLAY_ONLY="TARGET ...": run the seeds and findings once each, no new inputs.
  [[ " ${SNN_FUZZ_REPLAY_ONLY:-} " == *" $reader "* ]] && extra+=(-runs=0)
  read -r -a user_args <<< "${SNN_FUZZ_ARGS:-}"
  extra+=("${user_args[@]}")
  if ! ASAN_OPTIONS="$asan" SNN_FUZZ_FORMAT="$reader" "$WORK_DIR/$(harness_of "$reader")" \
      -max_total_time="$SECONDS_PER_READER" \
      -max_len="${SNN_FUZZ_MAX_LEN:-$max_len}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$WORK_DIR/$reader-" "$WORK_DIR/corpus/$reader" \
      "$seeds" "${extra[@]}" 2>"$WORK_DIR/$reader.log"; then
    echo "fuzz: $reader FAILED (see $WORK_DIR/$reader.log)"
    tail -40 "$WORK_DIR/$reader.log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$WORK_DIR/$reader.log" |
    sed "s/^/fuzz: $reader /"
done
exit $status

#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang, AddressSanitizer and UndefinedBehaviorSanitizer,
# compiling the sources under test directly, and fuzzes each target for a bounded time:
#   the event file readers (fuzz/fuzz_reader.cpp: nmnist evt2 evt3 dat aedat3),
#   the SHD / SSC HDF5 reader (fuzz/fuzz_hsd.cpp: hsd as users open files, HDF5 reading
#   them in a child process first; hsd-direct with the file read in the fuzzer's process,
#   where the sanitizers see HDF5's own memory errors),
#   the NIR graph reader (fuzz/fuzz_nir.cpp: nir as users read files, isolated in a child;
#   nir-direct read in the fuzzer's process),
#   the text parsers of transforms, representations, slicers and neuron specifications
#   (fuzz/fuzz_text.cpp: text).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=20] [WORK_DIR=build/fuzz] [TARGET ...]
#
# TARGET: nmnist evt2 evt3 dat aedat3 hsd hsd-direct nir nir-direct text (default: all but
# the -direct ones).
# Seeds: fuzz/corpus/<target> (hsd: small SHD files made by h5py at run time; nir: graphs
# written by the nir package); new inputs go to WORK_DIR/corpus/<target>, crashes to
# WORK_DIR/<target>-crash-*. The hsd and nir targets replay fuzz/findings and every input
# that broke their -direct target in WORK_DIR first: each must be an error there. Exits 77 (CTest's skip; 1 when CI=true) when no clang++ with libFuzzer is
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
[[ ${#READERS[@]} -gt 0 ]] || READERS=(nmnist evt2 evt3 dat aedat3 hsd nir text)

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
    nir|nir-direct) echo fuzz_nir ;;
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
if [[ "$needed" == *" fuzz_nir "* ]]; then
  build fuzz_nir fuzz/fuzz_nir.cpp src/nir/graph.cpp src/util/hdf5_lock.cpp src/util/hdf5_util.cpp \
    src/util/atomic_file.cpp -- \
    -I/usr/include/hdf5/serial -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 "${TORCH_LIBS[@]}"
  # Seeds: NIR graphs written by the nir package (a chain of every neuron node, a conv net, a
  # recurrent graph, a subgraph) and the shared fixtures where present.
  mkdir -p "$WORK_DIR/seeds/nir"
  "$SNN_VENV/bin/python" - "$WORK_DIR/seeds/nir" "$SNN_ROOT/../shared/fixtures/nir" <<'PY'
import os, shutil, sys, numpy as np, nir
out, fixtures = sys.argv[1], sys.argv[2]
o = lambda *s: np.ones(s, np.float32)
z = lambda *s: np.zeros(s, np.float32)
nodes = {"input": nir.Input(input_type=np.array([3])), "fc": nir.Affine(weight=o(3, 3), bias=z(3)),
         "lif": nir.LIF(tau=o(3), r=o(3), v_leak=z(3), v_threshold=o(3)),
         "cuba": nir.CubaLIF(tau_mem=o(3), tau_syn=o(3), r=o(3), v_leak=z(3), v_threshold=o(3)),
         "li": nir.LI(tau=o(3), r=o(3), v_leak=z(3)), "d": nir.Delay(delay=o(3)),
         "output": nir.Output(output_type=np.array([3]))}
chain = ["input", "fc", "lif", "cuba", "li", "d", "output"]
g = nir.NIRGraph(nodes=nodes, edges=list(zip(chain, chain[1:])), metadata={"k": "v"})
nir.write(f"{out}/chain.nir", g, compression=None)
rec = nir.NIRGraph(nodes={k: nodes[k] for k in ["input", "fc", "cuba", "output"]} | {"w": nir.Linear(weight=o(3, 3))},
                   edges=[("input", "fc"), ("fc", "cuba"), ("cuba", "w"), ("w", "cuba"), ("cuba", "output")])
nir.write(f"{out}/recurrent.nir", rec, compression=None)
sub = nir.NIRGraph(nodes={"input": nodes["input"], "inner": g, "output": nodes["output"]},
                   edges=[("input", "inner"), ("inner", "output")], type_check=False)
nir.write(f"{out}/subgraph.nir", sub)
for name in ["lif_norse.nir", "cnn_sinabs.nir"]:
    if os.path.exists(f"{fixtures}/{name}"):
        shutil.copy(f"{fixtures}/{name}", f"{out}/{name}")
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
  if [[ "$reader" == nir* ]]; then
    seeds="$WORK_DIR/seeds/nir"
    max_len=65536  # the seed graphs are 10-40 KB (the Sinabs fixture's conv net: 70 KB)
  fi
  echo "fuzz: $reader for ${SECONDS_PER_READER}s"
  extra=()
  asan="${ASAN_OPTIONS:-}"
  if [[ "$reader" == hsd || "$reader" == nir ]]; then
    # Past findings (HDF5 files that broke HDF5), and what broke the -direct target here, are
    # replayed first: they must be errors, not crashes or hangs.
    extra=("$SNN_ROOT/fuzz/findings")
    found=()
    for f in "$WORK_DIR/$reader"-direct-{crash,oom,timeout,leak}-*; do [[ -e "$f" ]] && found+=("$f"); done
    if [[ ${#found[@]} -gt 0 ]]; then
      rm -rf "$WORK_DIR/replay-$reader" && mkdir -p "$WORK_DIR/replay-$reader"
      cp "${found[@]}" "$WORK_DIR/replay-$reader/"
      echo "fuzz: $reader replays ${#found[@]} inputs that broke $reader-direct"
      extra+=("$WORK_DIR/replay-$reader")
    fi
  fi
  if [[ "$reader" == hsd* || "$reader" == nir* ]]; then
    # HDF5 sizes some allocations from the file and fails cleanly when malloc returns null
    # (a corrupt local heap asks for 100 TB); ASan would abort on such a request instead.
    asan="allocator_may_return_null=1${asan:+:$asan}"
  fi
  if [[ "$reader" == hsd || "$reader" == nir ]]; then
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

#!/usr/bin/env bash
# Builds the libFuzzer harness of the event file readers (fuzz/fuzz_reader.cpp) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, compiling the reader sources directly
# (they need only c10), and fuzzes each reader for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_READER=20] [WORK_DIR=build/fuzz] [READER ...]
#
# READER: nmnist evt2 evt3 dat aedat3 (default: all). Seeds: fuzz/corpus/<reader>; new
# inputs go to WORK_DIR/corpus/<reader>, crashes to WORK_DIR/<reader>-crash-*. Exits 77
# (CTest's skip) when no clang++ with libFuzzer is found. SNN_FUZZ_CXX picks the compiler,
# SNN_FUZZ_MAX_LEN the longest input (default 8192 bytes), SNN_TORCH_DIR the torch package.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SECONDS_PER_READER="${1:-20}"
WORK_DIR="${2:-$SNN_BUILD_DIR/fuzz}"
shift $(( $# > 2 ? 2 : $# ))
READERS=("$@")
[[ ${#READERS[@]} -gt 0 ]] || READERS=(nmnist evt2 evt3 dat aedat3)

CXX="${SNN_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}"
if [[ -z "$CXX" ]]; then
  echo "fuzz: no clang++ found (apt-get install clang-14 libclang-rt-14-dev); skipped"
  exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    "$CXX" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz: $CXX cannot link -fsanitize=fuzzer (install libclang-rt-14-dev); skipped"
  exit 77
fi
if [[ -z "${SNN_TORCH_DIR:-}" ]]; then
  SNN_TORCH_DIR="$("$SNN_VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
fi

mkdir -p "$WORK_DIR"
BIN="$WORK_DIR/fuzz_reader"
SOURCES=(fuzz/fuzz_reader.cpp src/util/atomic_file.cpp src/events/column.cpp src/events/io/source.cpp src/events/io/nmnist.cpp
         src/events/io/prophesee.cpp src/events/io/aedat.cpp)
# Rebuilt only when a source or header is newer than the binary.
if [[ ! -x "$BIN" ]] || [[ -n "$(cd "$SNN_ROOT" && find "${SOURCES[@]}" src/events/io/decoder.h src/util/atomic_file.h \
      include/snn/events -newer "$BIN" 2>/dev/null)" ]]; then
  echo "fuzz: building $BIN with $CXX"
  (cd "$SNN_ROOT" && "$CXX" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_GLIBCXX_USE_CXX11_ABI=1 -Iinclude -Isrc \
    -isystem "$SNN_TORCH_DIR/include" "${SOURCES[@]}" \
    -L"$SNN_TORCH_DIR/lib" -lc10 -Wl,-rpath,"$SNN_TORCH_DIR/lib" -o "$BIN")
fi

status=0
for reader in "${READERS[@]}"; do
  mkdir -p "$WORK_DIR/corpus/$reader"
  echo "fuzz: $reader for ${SECONDS_PER_READER}s"
  if ! SNN_FUZZ_FORMAT="$reader" "$BIN" -max_total_time="$SECONDS_PER_READER" \
      -max_len="${SNN_FUZZ_MAX_LEN:-8192}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$WORK_DIR/$reader-" "$WORK_DIR/corpus/$reader" \
      "$SNN_ROOT/fuzz/corpus/$reader" 2>"$WORK_DIR/$reader.log"; then
    echo "fuzz: $reader FAILED (see $WORK_DIR/$reader.log)"
    tail -40 "$WORK_DIR/$reader.log"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$WORK_DIR/$reader.log" |
    sed "s/^/fuzz: $reader /"
done
exit $status

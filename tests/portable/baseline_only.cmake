# Configures and builds snn.cpp with -DSNN_ENABLE_AVX2=OFF (the baseline kernels alone, as
# on a CPU architecture other than x86-64) and runs the conv SNN example on it.
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DSNN_TORCH_DIR=... -P baseline_only.cmake
include("${CMAKE_CURRENT_LIST_DIR}/../cmake_run.cmake")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DSNN_TORCH_DIR=${SNN_TORCH_DIR} -DSNN_ENABLE_AVX2=OFF -DSNN_BUILD_TESTS=OFF
    -DSNN_BUILD_CLI=OFF -DSNN_BUILD_BENCH=OFF -DSNN_BUILD_EXAMPLES=ON)
run(${CMAKE_COMMAND} --build "${WORK_DIR}" --target conv_snn)
run("${WORK_DIR}/conv_snn")

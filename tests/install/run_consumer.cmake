# Installs snn from SNN_BINARY_DIR into WORK_DIR/prefix and checks that the installed
# package is relocatable with respect to LibTorch:
#   1. the installed libsnn.so carries no path of the torch package it was built with;
#   2. tests/install/consumer configures, builds and runs against the installed package with
#      LibTorch "moved" (SNN_TORCH_DIR pointing at another directory holding the same torch);
#   3. without any hint and no python with torch on PATH, configuring fails with a message
#      that says what to set.
file(REMOVE_RECURSE "${WORK_DIR}")
include("${CMAKE_CURRENT_LIST_DIR}/../cmake_run.cmake")
run(${CMAKE_COMMAND} --install "${SNN_BINARY_DIR}" --prefix "${WORK_DIR}/prefix")

# 1. No torch path in the installed library.
find_program(READELF readelf REQUIRED)
file(GLOB libsnn "${WORK_DIR}/prefix/lib*/libsnn.so")
execute_process(COMMAND "${READELF}" -d ${libsnn} OUTPUT_VARIABLE dynamic)
string(REGEX MATCH "R(UN)?PATH[^\n]*" runpath "${dynamic}")
if(runpath MATCHES "${SNN_TORCH_DIR}" OR runpath MATCHES "site-packages")
  message(FATAL_ERROR "consumer: the installed libsnn.so carries a torch path: ${runpath}")
endif()
message("consumer: installed libsnn.so ${runpath}")

# 2. LibTorch moved: a directory of links to the torch package's include, lib, share.
set(moved "${WORK_DIR}/moved/torch")
file(MAKE_DIRECTORY "${moved}")
foreach(item include lib share version.py)
  file(CREATE_LINK "${SNN_TORCH_DIR}/${item}" "${moved}/${item}" SYMBOLIC)
endforeach()
run(${CMAKE_COMMAND} -E env PATH=/usr/bin:/bin
    ${CMAKE_COMMAND} -S "${SNN_SOURCE_DIR}/tests/install/consumer" -B "${WORK_DIR}/build" -G Ninja
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DSNN_TORCH_DIR=${moved})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
execute_process(COMMAND "${READELF}" -d "${WORK_DIR}/build/consumer" OUTPUT_VARIABLE consumer_dynamic)
if(NOT consumer_dynamic MATCHES "${moved}")
  message(FATAL_ERROR "consumer: the consumer does not take LibTorch from ${moved}")
endif()
run("${WORK_DIR}/build/consumer")

# 3. No LibTorch to be found: a message that says what to set.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env PATH=/usr/bin:/bin
          ${CMAKE_COMMAND} -S "${SNN_SOURCE_DIR}/tests/install/consumer" -B "${WORK_DIR}/build-none"
          -G Ninja -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX REPLACE "[ \n]+" " " err_flat "${err}")  # CMake wraps the message
if(rc EQUAL 0 OR NOT err_flat MATCHES "LibTorch not found.* set SNN_TORCH_DIR=<site-packages>/torch")
  message(FATAL_ERROR "consumer: configuring without LibTorch should fail naming SNN_TORCH_DIR, "
                      "got (${rc}):\n${err}")
endif()
message("consumer: without LibTorch, configuring fails with: LibTorch not found ... set SNN_TORCH_DIR")
message("consumer: relocatable install checked")

# Locates LibTorch inside the pinned PyPI torch wheel and defines the imported target
# snn::torch_cpu (headers + libtorch_cpu + libc10).
#
# Why not find_package(Torch)? The PyPI wheel is built with CUDA, and its TorchConfig
# then asks for a CUDA toolkit. snn.cpp's kernels are CPU kernels, so it links only the
# CPU libraries of the wheel; no CUDA toolkit is needed to build or to use it.
#
# Input: SNN_TORCH_DIR, the wheel's package directory (site-packages/torch). When it is
# not set, it is asked from SNN_PYTHON (a Python interpreter that can import torch).
if(TARGET snn::torch_cpu)
  return()
endif()

if(NOT SNN_TORCH_DIR)
  if(NOT SNN_PYTHON)
    find_program(SNN_PYTHON NAMES python3 python REQUIRED)
  endif()
  execute_process(
    COMMAND "${SNN_PYTHON}" -c "import os, torch; print(os.path.dirname(torch.__file__))"
    OUTPUT_VARIABLE _snn_torch_dir OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _snn_rc ERROR_VARIABLE _snn_err)
  if(NOT _snn_rc EQUAL 0)
    message(FATAL_ERROR "snn: cannot import torch with ${SNN_PYTHON}: ${_snn_err}\n"
                        "Run scripts/setup.sh, or pass -DSNN_TORCH_DIR=<site-packages>/torch.")
  endif()
  set(SNN_TORCH_DIR "${_snn_torch_dir}" CACHE PATH "torch package directory (site-packages/torch)")
endif()

foreach(_lib torch_cpu c10)
  find_library(SNN_LIB_${_lib} NAMES ${_lib} PATHS "${SNN_TORCH_DIR}/lib" NO_DEFAULT_PATH)
  if(NOT SNN_LIB_${_lib})
    message(FATAL_ERROR "snn: lib${_lib}.so not found in ${SNN_TORCH_DIR}/lib")
  endif()
endforeach()
# ATen's at::parallel_for is inline code that runs in parallel only in a TU built with
# OpenMP; the wheel ships the OpenMP runtime it uses (libgomp.so.1), which the library links
# so that one runtime serves both.
find_library(SNN_LIB_gomp NAMES libgomp.so.1 gomp PATHS "${SNN_TORCH_DIR}/lib" NO_DEFAULT_PATH)
if(NOT EXISTS "${SNN_TORCH_DIR}/include/torch/library.h")
  message(FATAL_ERROR "snn: LibTorch headers not found in ${SNN_TORCH_DIR}/include")
endif()

add_library(snn::torch_cpu INTERFACE IMPORTED)
target_include_directories(snn::torch_cpu SYSTEM INTERFACE
  "${SNN_TORCH_DIR}/include" "${SNN_TORCH_DIR}/include/torch/csrc/api/include")
target_link_libraries(snn::torch_cpu INTERFACE "${SNN_LIB_torch_cpu}" "${SNN_LIB_c10}")
# The wheel is built with the C++11 ABI and C++20 (as its own TorchConfig requires).
target_compile_definitions(snn::torch_cpu INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
target_compile_features(snn::torch_cpu INTERFACE cxx_std_20)

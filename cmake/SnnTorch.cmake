# Locates LibTorch inside the pinned PyPI torch wheel and defines the imported target
# snn::torch_cpu (headers + libtorch_cpu + libc10).
#
# Why not find_package(Torch)? The PyPI wheel is built with CUDA, and its TorchConfig
# then asks for a CUDA toolkit. snn.cpp's kernels are CPU kernels, so it links only the
# CPU libraries of the wheel; no CUDA toolkit is needed to build or to use it.
#
# Where the torch package is, in this order: SNN_TORCH_DIR (site-packages/torch); Torch_DIR
# (site-packages/torch/share/cmake/Torch, as for find_package(Torch)); the torch of
# SNN_PYTHON, or else of the python3 on PATH. Sets SNN_TORCH_VERSION (e.g. 2.15.0+cu132).
# An installed snn.cpp runs this in the consumer's configuration: nothing is hard-coded.
if(TARGET snn::torch_cpu)
  return()
endif()

set(_snn_torch_help
    "set SNN_TORCH_DIR=<site-packages>/torch (the torch Python package), or "
    "Torch_DIR=<site-packages>/torch/share/cmake/Torch, or put a Python that imports torch "
    "on PATH (or set SNN_PYTHON to one)")
# A torch directory found through a Python is found again when that Python changes (a new
# lock file makes a new environment), and the libraries are looked up again when the
# directory changes: a stale cache entry never links an old environment.
if(SNN_TORCH_DIR AND DEFINED _SNN_TORCH_DIR_PYTHON AND NOT "${_SNN_TORCH_DIR_PYTHON}" STREQUAL "${SNN_PYTHON}")
  unset(SNN_TORCH_DIR CACHE)
  unset(SNN_TORCH_DIR)
endif()
if(NOT SNN_TORCH_DIR AND Torch_DIR)
  get_filename_component(_snn_from_torch_dir "${Torch_DIR}/../../.." ABSOLUTE)
  set(SNN_TORCH_DIR "${_snn_from_torch_dir}" CACHE PATH "torch package directory (site-packages/torch)")
endif()
if(NOT SNN_TORCH_DIR)
  if(NOT SNN_PYTHON)
    find_program(SNN_PYTHON NAMES python3 python)
  endif()
  if(NOT SNN_PYTHON)
    message(FATAL_ERROR "snn: LibTorch not found (no SNN_TORCH_DIR, no Torch_DIR, no python on PATH): "
                        ${_snn_torch_help})
  endif()
  execute_process(
    COMMAND "${SNN_PYTHON}" -c "import os, torch; print(os.path.dirname(torch.__file__))"
    OUTPUT_VARIABLE _snn_torch_dir OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _snn_rc ERROR_VARIABLE _snn_err)
  if(NOT _snn_rc EQUAL 0)
    message(FATAL_ERROR "snn: LibTorch not found: ${SNN_PYTHON} cannot import torch. "
                        ${_snn_torch_help} " (in this repository: run scripts/setup.sh).")
  endif()
  set(SNN_TORCH_DIR "${_snn_torch_dir}" CACHE PATH "torch package directory (site-packages/torch)")
  set(_SNN_TORCH_DIR_PYTHON "${SNN_PYTHON}" CACHE INTERNAL "the Python SNN_TORCH_DIR came from")
endif()
if(NOT "${_SNN_TORCH_LIBS_DIR}" STREQUAL "${SNN_TORCH_DIR}")
  unset(SNN_LIB_torch_cpu CACHE)
  unset(SNN_LIB_c10 CACHE)
  unset(SNN_LIB_gomp CACHE)
  set(_SNN_TORCH_LIBS_DIR "${SNN_TORCH_DIR}" CACHE INTERNAL "where SNN_LIB_* were found")
endif()
if(NOT EXISTS "${SNN_TORCH_DIR}/version.py")
  message(FATAL_ERROR "snn: ${SNN_TORCH_DIR} is not a torch package directory (no version.py): "
                      ${_snn_torch_help})
endif()
file(STRINGS "${SNN_TORCH_DIR}/version.py" _snn_version_line REGEX "^__version__ *=")
string(REGEX REPLACE "^__version__ *= *['\"]([^'\"]*)['\"].*$" "\\1" SNN_TORCH_VERSION "${_snn_version_line}")

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

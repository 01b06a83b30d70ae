# Tests of the event readers and writers (include/snn/events/io.h).
add_executable(snn_events_io_tests unit/events/io_test.cpp)
target_link_libraries(snn_events_io_tests PRIVATE snn::snn GTest::gtest GTest::gtest_main)
target_include_directories(snn_events_io_tests PRIVATE unit)
# The inputs that once broke the readers (fuzz/findings) are replayed from the source tree.
target_compile_definitions(snn_events_io_tests PRIVATE SNN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
gtest_discover_tests(snn_events_io_tests DISCOVERY_TIMEOUT 60)

# A short libFuzzer run of every reader, the SHD/SSC HDF5 reader and the text parsers
# (scripts/fuzz.sh builds the harnesses with clang, ASan and UBSan); skipped when no clang
# with libFuzzer is installed (a failure in CI). Longer runs: scripts/fuzz.sh <seconds>.
add_test(NAME events_io.fuzz COMMAND "${PROJECT_SOURCE_DIR}/scripts/fuzz.sh" 20
                                     "${PROJECT_BINARY_DIR}/fuzz" nmnist evt2 evt3 dat aedat3 hsd
                                     text)
set_tests_properties(events_io.fuzz PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS "fuzz;slow"
  ENVIRONMENT "SNN_TORCH_DIR=${SNN_TORCH_DIR};SNN_BUILD_DIR=${PROJECT_BINARY_DIR}")

# The same tests on the baseline decoders (no AVX-512 N-MNIST groups), which the CPU
# features would otherwise choose on this machine.
add_test(NAME events_io.baseline_decoders COMMAND snn_events_io_tests)
set_tests_properties(events_io.baseline_decoders PROPERTIES ENVIRONMENT "SNN_CPU_CAPABILITY=default")

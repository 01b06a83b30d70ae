# Tests of the event transforms, representations and slicers.
add_executable(snn_events_transforms_tests
  unit/events/transforms_test.cpp
  unit/events/transforms_extra_test.cpp
)
target_link_libraries(snn_events_transforms_tests PRIVATE snn::snn GTest::gtest GTest::gtest_main)
target_include_directories(snn_events_transforms_tests PRIVATE unit)
target_precompile_headers(snn_events_transforms_tests REUSE_FROM snn_unit_tests)
gtest_discover_tests(snn_events_transforms_tests DISCOVERY_TIMEOUT 60)

# Sources of snn::events transforms, representations and slicers.
set(SNN_EVENTS_TRANSFORMS_SOURCES
  src/events/transforms/transforms.cpp
  src/events/transforms/downsampling.cpp
  src/events/transforms/sparse.cpp
  src/events/transforms/representations.cpp
  src/events/transforms/slicers.cpp
  src/events/transforms/transform_ops.cpp
)

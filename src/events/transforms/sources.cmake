# Sources of snn::events transforms, representations and slicers.
set(SNN_EVENTS_TRANSFORMS_SOURCES
)

# Sources of snn::events readers and writers (include/snn/events/io.h).
set(SNN_EVENTS_IO_SOURCES
)

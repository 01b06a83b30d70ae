# Sources of snn::events readers and writers (include/snn/events/io.h).
set(SNN_EVENTS_IO_SOURCES
  src/events/io/source.cpp
  src/events/io/nmnist.cpp
  src/events/io/prophesee.cpp
  src/events/io/aedat.cpp
  src/events/io/io.cpp
  src/events/io/parallel.cpp
  src/events/io/hsd.cpp
  src/events/io/io_ops.cpp
)

#pragma once
// What ToFrame and ToSparseTensor share: the event range of each frame.
#include <vector>

#include "snn/events/slicers.h"
#include "snn/events/transforms.h"

namespace snn::events::detail {

/// The events of each frame, as ToFrame slices them (options already checked): by time window
/// (one empty frame for empty events), event count, time bins or event bins.
std::vector<IndexRange> frame_ranges(const ToFrameOptions& options, const Events& events);

}  // namespace snn::events::detail

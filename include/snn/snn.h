#pragma once
/// \file
/// Everything of snn.cpp's public API.
#include "snn/data/cache.h"
#include "snn/data/collate.h"
#include "snn/data/event_datasets.h"
#include "snn/events/events.h"
#include "snn/events/io.h"
#include "snn/events/slicers.h"
#include "snn/events/stats.h"
#include "snn/events/transforms.h"
#include "snn/io/image.h"
#include "snn/nn/neuron.h"
#include "snn/nn/lif.h"
#include "snn/nn/neuron_options.h"
#include "snn/nn/stateful.h"
#include "snn/ops/neuron.h"
#include "snn/version.h"

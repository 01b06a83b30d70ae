#pragma once
/// \file
/// Everything of snn.cpp's public API.
#include "snn/nn/lif.h"
#include "snn/nn/neuron_options.h"
#include "snn/nn/stateful.h"
#include "snn/ops/lif.h"
#include "snn/version.h"

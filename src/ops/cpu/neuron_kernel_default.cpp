// The fused neuron kernels compiled for the baseline x86-64 CPU capability.
#define SNN_NEURON_KERNEL(name) neuron_##name##_default
#include "ops/cpu/neuron_kernel_impl.h"

// The fused LIF kernels compiled for the baseline x86-64 CPU capability.
#define SNN_LIF_KERNEL(name) lif_##name##_default
#include "ops/cpu/lif_kernel_impl.h"

// The fused neuron kernels compiled for the AVX2 + FMA CPU capability (CMake compiles this file
// with -mavx2 -mfma; neuron_cpu.cpp calls it only where the CPU has both).
#define SNN_NEURON_KERNEL(name) neuron_##name##_avx2
#include "ops/cpu/neuron_kernel_impl.h"

// The fused LIF kernels compiled for the AVX2 + FMA CPU capability (CMake compiles this file with
// -mavx2 -mfma; lif_cpu.cpp calls it only where the CPU has both).
#define SNN_LIF_KERNEL(name) lif_##name##_avx2
#include "ops/cpu/lif_kernel_impl.h"

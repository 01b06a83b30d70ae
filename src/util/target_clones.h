#pragma once
// SNN_TARGET_CLONES: compiles a hot loop function for AVX-512 (x86-64-v4), AVX2 (x86-64-v3)
// and the baseline, the best one picked at load time (GCC's function multiversioning). The
// clones compute the same numbers: the library builds with -ffp-contract=off, so no clone
// fuses a multiply and an add, and int64 <-> double conversions round the same way in each.
// Put it on a function whose loop the compiler can vectorise (plain arrays, no calls).
// Not under ThreadSanitizer: the clones' resolvers run while the loader relocates the
// library, before the sanitizer's runtime is up, and an instrumented resolver crashes there.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__)
#define SNN_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SNN_TARGET_CLONES
#endif

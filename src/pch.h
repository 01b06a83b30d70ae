// Precompiled header of libsnn: the heavy LibTorch headers most TUs include.
#include <ATen/ATen.h>
#include <torch/library.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>

// Bulk conversions between float and double for the CPU backend's matrix products: widening a float32 weight to double
// for dgemm, and rounding dgemm's double rows to float32 (the sweep's B) with each row's largest |value|. Memory-bound
// loops that a fresh JVM would run interpreted, then compiled twice over, before they reach this speed.
#pragma once
#include <cstdint>

namespace solulens {
void widenAvx2(const float* src, double* dst, int64_t n);
// dst[i] = (float) src[i] for i < n (round to nearest even, as Java's cast); returns the largest |dst[i]| (0 for n = 0),
// NaN when some dst[i] is NaN.
float narrowAvx2(const double* src, float* dst, int64_t n);
}  // namespace solulens

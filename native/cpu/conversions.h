// Bulk conversions between float and double for the CPU backend's matrix products where they go to dgemm (where
// float_weight_product.h cannot run): widening a float32 weight to double for dgemm, and rounding dgemm's double rows
// to float32 (the sweep's B) with each row's largest |value|. Memory-bound
// loops that a fresh JVM would run interpreted, then compiled twice over, before they reach this speed. Floor for
// solu-1l's B: memory traffic, 98.8M doubles read (790 MB) and 98.8M floats written (395 MB); measured 0.1–0.25 s of
// wall time in cold sweeps, most of it the page faults of B's new cache file (benchmarks/NOTES.md).
#pragma once
#include <cstdint>

namespace solulens {
void widenAvx2(const float* src, double* dst, int64_t n);
// dst[i] = (float) src[i] for i < n (round to nearest even, as Java's cast); returns the largest |dst[i]| (0 for n = 0),
// NaN when some dst[i] is NaN.
float narrowAvx2(const double* src, float* dst, int64_t n);
}  // namespace solulens

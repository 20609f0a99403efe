// The CPU backend's products of double rows with a float32 weight matrix (x · W, W_U above all), accumulated in double,
// without a double copy of the weights: dgemm needed W_U widened into 198 MB of fresh memory for solu-1l, and B's
// product (2048 × 512 × 48262) ran at 65–81 GFLOP/s through it on two Zen 3 cores, then a second pass rounded its double
// rows to float32. Here each block of W's columns is widened as it is packed for the kernel, and B's float32 values and
// each row's largest |value| come out of the kernel's registers (benchmarks/NOTES.md).
// Every out[r, c] is one sequential chain of fused multiply-adds over k = 0 .. inner-1 from 0:
// acc = fma(x[r, k], (double) w[k, c], acc). So its bits do not depend on the blocking, the column ranges or the
// threads, and a Java loop of Math.fma gives them too (the tests' oracle).
#pragma once
#include <cstdint>

namespace solulens {

// Rows per kernel tile; x is packed in slivers of this many rows.
constexpr int PRODUCT_ROWS = 6;

// Doubles packRows writes for rows x inner.
int64_t packedRowsSize(int rows, int inner);

// x [rows, inner] row-major into slivers of PRODUCT_ROWS rows, k-major (zeros past the last row).
void packRows(const double* x, int rows, int inner, double* packed);

// out[r, c] for r < rows, c < cols, from packed rows and w[k * wStride + c] (w points at column 0 of the range, row 0).
// Exactly one of outD and outF is non-null: out[r * outStride + c] in double, or rounded to float32 (nearest even). With
// outF and rowAbsMax given, rowAbsMax[r] is the largest |out[r, c]| over these columns, NaN when one is NaN.
// Needs AVX2 and FMA. False, with nothing written, when there is no memory for the packed columns (1.5 MB a thread at
// d_model 512).
bool floatWeightProductAvx2(const double* packed, int rows, int inner, const float* w, int64_t wStride, int cols, double* outD,
                            float* outF, int64_t outStride, float* rowAbsMax);

// The same on 16-column panels (the same bits); needs AVX-512F.
bool floatWeightProductAvx512(const double* packed, int rows, int inner, const float* w, int64_t wStride, int cols, double* outD,
                              float* outF, int64_t outStride, float* rowAbsMax);

}  // namespace solulens

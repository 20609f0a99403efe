// float_weight_product.h for CPUs with AVX2 and FMA (compiled with -mavx2 -mfma -ffp-contract=off, build.sh).
// Floor for B's product on the 2-core Zen 3 VM: 101 GFLOP at the two cores' measured double FMA peak (72–96 GFLOP/s
// from one spell to the next) is 1.05–1.4 s. The kernel is a 6 x 8 tile: per k, two loads of widened W, six broadcasts
// of x, twelve FMAs into twelve accumulators, so the tile's chains (4-cycle FMAs, 12 in flight) keep both FMA pipes
// busy. Tiles run sliver by sliver: a sliver of x (6 x inner doubles: 24 KB at d_model 512) stays in L1 while it meets
// every panel of the column block, whose widened W (inner x BLOCK doubles) is read from L2 and L3.
#include "float_weight_product.h"

#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

namespace solulens {
namespace {

constexpr int MR = PRODUCT_ROWS, NR = 8;
// Columns widened and packed at a time: 192 (inner x 192 doubles, 768 KB at d_model 512) ran B's product at 63–75
// GFLOP/s in a scratch program, against 31–41 for blocks of 48–96 walked panel by panel (benchmarks/NOTES.md).
constexpr int BLOCK = 192;

// W's columns [c0, c0 + n) widened into panels of NR columns, k-major, zeros past column n.
void packColumns(const float* w, int64_t wStride, int inner, int n, double* panels) {
    for (int p = 0; p * NR < n; p++) {
        int cols = n - p * NR < NR ? n - p * NR : NR;
        double* d = panels + (int64_t)p * inner * NR;
        const float* s = w + p * NR;
        if (cols == NR) {
            for (int k = 0; k < inner; k++) {
                __m256 v = _mm256_loadu_ps(s + k * wStride);
                _mm256_store_pd(d + k * NR, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
                _mm256_store_pd(d + k * NR + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
            }
        } else {
            for (int k = 0; k < inner; k++) {
                for (int c = 0; c < NR; c++) {
                    d[k * NR + c] = c < cols ? (double)s[k * wStride + c] : 0.0;
                }
            }
        }
    }
}

// The MR x NR tile of one sliver and one panel, row-major into tile. The six rows are written out, not looped over an
// array of vectors, so that the twelve accumulators are twelve named registers whatever the compiler's unrolling.
inline void kernel(int inner, const double* x, const double* w, double* tile) {
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < inner; k++) {
        __m256d w0 = _mm256_load_pd(w), w1 = _mm256_load_pd(w + 4), b;
        b = _mm256_broadcast_sd(x + 0);
        c00 = _mm256_fmadd_pd(b, w0, c00);
        c01 = _mm256_fmadd_pd(b, w1, c01);
        b = _mm256_broadcast_sd(x + 1);
        c10 = _mm256_fmadd_pd(b, w0, c10);
        c11 = _mm256_fmadd_pd(b, w1, c11);
        b = _mm256_broadcast_sd(x + 2);
        c20 = _mm256_fmadd_pd(b, w0, c20);
        c21 = _mm256_fmadd_pd(b, w1, c21);
        b = _mm256_broadcast_sd(x + 3);
        c30 = _mm256_fmadd_pd(b, w0, c30);
        c31 = _mm256_fmadd_pd(b, w1, c31);
        b = _mm256_broadcast_sd(x + 4);
        c40 = _mm256_fmadd_pd(b, w0, c40);
        c41 = _mm256_fmadd_pd(b, w1, c41);
        b = _mm256_broadcast_sd(x + 5);
        c50 = _mm256_fmadd_pd(b, w0, c50);
        c51 = _mm256_fmadd_pd(b, w1, c51);
        x += MR;
        w += NR;
    }
    _mm256_store_pd(tile + 0, c00);
    _mm256_store_pd(tile + 4, c01);
    _mm256_store_pd(tile + 8, c10);
    _mm256_store_pd(tile + 12, c11);
    _mm256_store_pd(tile + 16, c20);
    _mm256_store_pd(tile + 20, c21);
    _mm256_store_pd(tile + 24, c30);
    _mm256_store_pd(tile + 28, c31);
    _mm256_store_pd(tile + 32, c40);
    _mm256_store_pd(tile + 36, c41);
    _mm256_store_pd(tile + 40, c50);
    _mm256_store_pd(tile + 44, c51);
}

struct FreeAligned {
    void operator()(double* p) const { std::free(p); }
};

}  // namespace

int64_t packedRowsSize(int rows, int inner) {
    return (int64_t)((rows + MR - 1) / MR) * MR * inner;
}

void packRows(const double* x, int rows, int inner, double* packed) {
    for (int s = 0; s * MR < rows; s++) {
        double* d = packed + (int64_t)s * MR * inner;
        for (int k = 0; k < inner; k++) {
            for (int r = 0; r < MR; r++) {
                int row = s * MR + r;
                d[k * MR + r] = row < rows ? x[(int64_t)row * inner + k] : 0.0;
            }
        }
    }
}

bool floatWeightProductAvx2(const double* packed, int rows, int inner, const float* w, int64_t wStride, int cols, double* outD,
                            float* outF, int64_t outStride, float* rowAbsMax) {
    // each calling thread's own panels, kept between calls (a fresh 768 KB would cost page faults on every call)
    thread_local std::unique_ptr<double, FreeAligned> panels;
    thread_local int64_t panelsSize = 0;
    int64_t need = (int64_t)inner * (BLOCK + NR);
    if (panelsSize < need) {
        panels.reset(static_cast<double*>(std::aligned_alloc(32, (size_t)need * sizeof(double))));
        panelsSize = panels ? need : 0;
        if (!panels) {
            return false;   // no memory for the panels: the caller reports it
        }
    }
    bool track = outF != nullptr && rowAbsMax != nullptr;
    if (track) {
        for (int r = 0; r < rows; r++) {
            rowAbsMax[r] = 0;
        }
    }
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    alignas(32) double tile[MR * NR];
    for (int c0 = 0; c0 < cols; c0 += BLOCK) {
        int n = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        packColumns(w + c0, wStride, inner, n, panels.get());
        for (int s = 0; s * MR < rows; s++) {
            int tileRows = rows - s * MR < MR ? rows - s * MR : MR;
            // the sliver's largest magnitudes over the block, lane by lane, and whether a lane saw a NaN (max_ps would drop it)
            __m256 largest[MR], nan[MR];
            float tail[MR];
            for (int r = 0; r < MR; r++) {
                largest[r] = nan[r] = _mm256_setzero_ps();
                tail[r] = 0;
            }
            for (int p = 0; p * NR < n; p++) {
                kernel(inner, packed + (int64_t)s * MR * inner, panels.get() + (int64_t)p * inner * NR, tile);
                int tileCols = n - p * NR < NR ? n - p * NR : NR;
                for (int r = 0; r < tileRows; r++) {
                    int64_t o = (int64_t)(s * MR + r) * outStride + c0 + p * NR;
                    const double* t = tile + r * NR;
                    if (outD != nullptr) {
                        for (int c = 0; c < tileCols; c++) {
                            outD[o + c] = t[c];
                        }
                    } else if (tileCols == NR) {
                        __m256 v = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_load_pd(t + 4)), _mm256_cvtpd_ps(_mm256_load_pd(t)));
                        _mm256_storeu_ps(outF + o, v);
                        __m256 magnitude = _mm256_andnot_ps(signBit, v);
                        nan[r] = _mm256_or_ps(nan[r], _mm256_cmp_ps(magnitude, magnitude, _CMP_UNORD_Q));
                        largest[r] = _mm256_max_ps(magnitude, largest[r]);
                    } else {
                        // the last panel's columns past the matrix hold 0 · x, which is NaN where x is infinite: not stored
                        for (int c = 0; c < tileCols; c++) {
                            float f = (float)t[c];
                            outF[o + c] = f;
                            float magnitude = std::fabs(f);
                            tail[r] = (magnitude != magnitude || tail[r] != tail[r]) ? std::numeric_limits<float>::quiet_NaN()
                                                                                     : (magnitude > tail[r] ? magnitude : tail[r]);
                        }
                    }
                }
            }
            if (track) {
                for (int r = 0; r < tileRows; r++) {
                    alignas(32) float lanes[NR];
                    _mm256_store_ps(lanes, largest[r]);
                    float m = rowAbsMax[s * MR + r];
                    bool anyNan = _mm256_movemask_ps(nan[r]) != 0 || m != m || tail[r] != tail[r];
                    for (float l : lanes) {
                        m = l > m ? l : m;
                    }
                    m = tail[r] > m ? tail[r] : m;
                    rowAbsMax[s * MR + r] = anyNan ? std::numeric_limits<float>::quiet_NaN() : m;
                }
            }
        }
    }
    return true;
}

}  // namespace solulens

// float_weight_product.h for CPUs with AVX2 and FMA (compiled with -mavx2 -mfma -ffp-contract=off, build.sh).
// Floor for B's product on the 2-core Zen 3 VM: 101 GFLOP at the two cores' measured double FMA peak (72–96 GFLOP/s
// from one spell to the next) is 1.05–1.4 s. The kernel is a 6 x 8 tile: per k, two loads of widened W, six broadcasts
// of x, twelve FMAs into twelve accumulators, so the tile's chains (4-cycle FMAs, 12 in flight) keep both FMA pipes
// busy. Tiles run sliver by sliver: a sliver of x (6 x inner doubles: 24 KB at d_model 512) stays in L1 while it meets
// every panel of the column block, whose widened W (inner x BLOCK doubles) is read from L2 and L3.
#include <immintrin.h>

#include "float_weight_product_driver.h"

namespace solulens {
namespace {

struct Avx2 {
    static constexpr int NR = 8, ALIGN = 32;

    // W's columns [0, n) widened into panels of NR columns, k-major, zeros past column n.
    static void packColumns(const float* w, int64_t wStride, int inner, int n, double* panels) {
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

    // The MR x NR tile of one sliver and one panel, row-major into tile. The six rows are written out, not looped over
    // an array of vectors, so that the twelve accumulators are twelve named registers whatever the compiler's unrolling.
    static inline void kernel(int inner, const double* x, const double* w, double* tile) {
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
            x += PRODUCT_ROWS;
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

    // A row's largest magnitudes over full panels, lane by lane, and whether a lane saw a NaN (max_ps would drop it).
    struct RowMax {
        __m256 largest, nan;

        void init() { largest = nan = _mm256_setzero_ps(); }

        // One full panel's row of the tile: rounded to float32 into out, and its magnitudes taken in.
        void add(const double* t, float* out) {
            __m256 v = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_load_pd(t + 4)), _mm256_cvtpd_ps(_mm256_load_pd(t)));
            _mm256_storeu_ps(out, v);
            __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(magnitude, magnitude, _CMP_UNORD_Q));
            largest = _mm256_max_ps(magnitude, largest);
        }

        float max(bool& anyNan) const {
            alignas(32) float lanes[NR];
            _mm256_store_ps(lanes, largest);
            anyNan = _mm256_movemask_ps(nan) != 0;
            float m = 0;
            for (float l : lanes) {
                m = l > m ? l : m;
            }
            return m;
        }
    };
};

}  // namespace

int64_t packedRowsSize(int rows, int inner) {
    return (int64_t)((rows + PRODUCT_ROWS - 1) / PRODUCT_ROWS) * PRODUCT_ROWS * inner;
}

void packRows(const double* x, int rows, int inner, double* packed) {
    constexpr int MR = PRODUCT_ROWS;
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
    return productWith<Avx2>(packed, rows, inner, w, wStride, cols, outD, outF, outStride, rowAbsMax);
}

}  // namespace solulens

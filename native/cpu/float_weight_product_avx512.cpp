// float_weight_product.h for CPUs with AVX-512F (compiled with -mavx512f -mfma -ffp-contract=off, build.sh): AVX2's
// 6 x 8 tile widened to 6 x 16, twelve 8-double accumulators, each value the same chain of FMAs, so the same bits. On a
// core whose FMA units are 512 bits wide (Zen 5) that is twice AVX2's rate per instruction; on one that splits them in
// two (Zen 4) the same rate with half the instructions. Floor for B's product on the 2-core Zen 5 VM: 101.2 GFLOP at the
// two cores' measured peak (203-204 GFLOP/s) is 0.50 s; measured 0.648-0.663 s (153-156 GFLOP/s), against 1.11-1.23 s
// for the 6 x 8 kernel there (2026-12-07, benchmarks/NOTES.md).
#include <immintrin.h>

#include "float_weight_product_driver.h"

namespace solulens {
namespace {

struct Avx512 {
    static constexpr int NR = 16, ALIGN = 64;

    static void packColumns(const float* w, int64_t wStride, int inner, int n, double* panels) {
        for (int p = 0; p * NR < n; p++) {
            int cols = n - p * NR < NR ? n - p * NR : NR;
            double* d = panels + (int64_t)p * inner * NR;
            const float* s = w + p * NR;
            if (cols == NR) {
                for (int k = 0; k < inner; k++) {
                    __m512 v = _mm512_loadu_ps(s + k * wStride);
                    _mm512_store_pd(d + k * NR, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
                    _mm512_store_pd(d + k * NR + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
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

    static inline void kernel(int inner, const double* x, const double* w, double* tile) {
        __m512d c00 = _mm512_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m512d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int k = 0; k < inner; k++) {
            __m512d w0 = _mm512_load_pd(w), w1 = _mm512_load_pd(w + 8), b;
            b = _mm512_set1_pd(x[0]);
            c00 = _mm512_fmadd_pd(b, w0, c00);
            c01 = _mm512_fmadd_pd(b, w1, c01);
            b = _mm512_set1_pd(x[1]);
            c10 = _mm512_fmadd_pd(b, w0, c10);
            c11 = _mm512_fmadd_pd(b, w1, c11);
            b = _mm512_set1_pd(x[2]);
            c20 = _mm512_fmadd_pd(b, w0, c20);
            c21 = _mm512_fmadd_pd(b, w1, c21);
            b = _mm512_set1_pd(x[3]);
            c30 = _mm512_fmadd_pd(b, w0, c30);
            c31 = _mm512_fmadd_pd(b, w1, c31);
            b = _mm512_set1_pd(x[4]);
            c40 = _mm512_fmadd_pd(b, w0, c40);
            c41 = _mm512_fmadd_pd(b, w1, c41);
            b = _mm512_set1_pd(x[5]);
            c50 = _mm512_fmadd_pd(b, w0, c50);
            c51 = _mm512_fmadd_pd(b, w1, c51);
            x += PRODUCT_ROWS;
            w += NR;
        }
        _mm512_store_pd(tile + 0, c00);
        _mm512_store_pd(tile + 8, c01);
        _mm512_store_pd(tile + 16, c10);
        _mm512_store_pd(tile + 24, c11);
        _mm512_store_pd(tile + 32, c20);
        _mm512_store_pd(tile + 40, c21);
        _mm512_store_pd(tile + 48, c30);
        _mm512_store_pd(tile + 56, c31);
        _mm512_store_pd(tile + 64, c40);
        _mm512_store_pd(tile + 72, c41);
        _mm512_store_pd(tile + 80, c50);
        _mm512_store_pd(tile + 88, c51);
    }

    struct RowMax {
        __m512 largest;
        __mmask16 nan;

        void init() {
            largest = _mm512_setzero_ps();
            nan = 0;
        }

        void add(const double* t, float* out) {
            __m256 low = _mm512_cvtpd_ps(_mm512_load_pd(t)), high = _mm512_cvtpd_ps(_mm512_load_pd(t + 8));
            __m512 v = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(low)), _mm256_castps_pd(high), 1));
            _mm512_storeu_ps(out, v);
            // |v| by clearing the sign bit (an integer operation: AVX-512F has no andnot for floats)
            __m512 magnitude = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
            nan |= _mm512_cmp_ps_mask(magnitude, magnitude, _CMP_UNORD_Q);
            largest = _mm512_max_ps(magnitude, largest);
        }

        float max(bool& anyNan) const {
            alignas(64) float lanes[NR];
            _mm512_store_ps(lanes, largest);
            anyNan = nan != 0;
            float m = 0;
            for (float l : lanes) {
                m = l > m ? l : m;
            }
            return m;
        }
    };
};

}  // namespace

bool floatWeightProductAvx512(const double* packed, int rows, int inner, const float* w, int64_t wStride, int cols, double* outD,
                              float* outF, int64_t outStride, float* rowAbsMax) {
    return productWith<Avx512>(packed, rows, inner, w, wStride, cols, outD, outF, outStride, rowAbsMax);
}

}  // namespace solulens

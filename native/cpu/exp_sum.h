// The exact sweep's double inner loops and the loss's softmax sums (java/.../cpu/VectorExpSum.java with
// DeterministicExp) in C++: sum_v exp(alpha*a[v] + gamma*a2[v] + delta*b[v] + beta[v] - shift), sum_i exp(x[i] - shift)
// and exp(x[i] - shift) rounded to float. exp is DoubleExp's: x = k ln 2 + r (ln 2 in two parts), e^r by its Taylor
// series to r^13, 2^k in the exponent bits; 0 below -708, infinity above 709. Floor: ~19 FMA-pipe operations per 4
// lanes (the logit's FMAs, the reduction, 13 Horner FMAs, the scaling), ~9.5 cycles per 4 elements on a Zen 3 core's
// two FMA pipes, ~1e9/s a core at 2.45 GHz; these loops run once per position (and per pair on the double path), not
// per (pair, word) like the float loop. Operation for operation on 4 double lanes, so the sums are the Java loops' bits
// (tested), and on 8 lanes in the AVX-512 translation unit (the Vector API's width there). In intrinsics: gcc left the
// lane loops scalar, with a branch per clamp test (0.2e9 exponentials a second in a double sweep; benchmarks/NOTES.md).
// Never compile with -ffast-math or floating-point contraction.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <immintrin.h>

#include "loop_inputs.h"

namespace SOLULENS_ISA {

// DoubleExp.exp, written without branches so that it vectorises: clamped lanes are computed on 0 and replaced.
static inline double expDet(double x, const solulens::DoubleExpConstants& k) {
    bool low = x < k.low, high = x > k.high;
    double xc = (low || high) ? 0.0 : x;
    double t = xc * k.log2e + k.round;
    double n = t - k.round;
    double r = std::fma(-n, k.ln2hi, xc);
    r = std::fma(-n, k.ln2lo, r);
    double p = std::fma(r, k.taylor[0], k.taylor[1]);
    for (int i = 2; i < 14; i++) {
        p = std::fma(p, r, k.taylor[i]);
    }
    int64_t bits;
    std::memcpy(&bits, &t, 8);
    bits = (int64_t)((uint64_t)(bits - (k.roundBits - 1023)) << 52);
    double scale;
    std::memcpy(&scale, &bits, 8);
    double y = p * scale;
    y = low ? 0.0 : y;
    return high ? INFINITY : y;
}

// The vector loops' tails: elements [i, n) one at a time, each term added to s in turn.
template <bool A2, bool B>
static double expSumTail(double s, double alpha, const double* a, double gamma, const double* a2, double delta, const float* b,
                         const double* beta, int i, int n, double shift, const solulens::DoubleExpConstants& k) {
    for (; i < n; i++) {
        double x = beta[i] - shift;
        x = std::fma(a[i], alpha, x);
        if (A2) {
            x = std::fma(a2[i], gamma, x);
        }
        if (B) {
            x = std::fma((double)b[i], delta, x);
        }
        s += expDet(x, k);
    }
    return s;
}

static inline double sumExpTail(double s, const double* x, int i, int n, double shift, const solulens::DoubleExpConstants& k) {
    for (; i < n; i++) {
        s += expDet(x[i] - shift, k);
    }
    return s;
}

static inline void expIntoTail(const double* x, int i, int n, double shift, float* out, const solulens::DoubleExpConstants& k) {
    for (; i < n; i++) {
        out[i] = (float)expDet(x[i] - shift, k);
    }
}

// expDet on 4 lanes: the same operations, the clamped lanes computed on 0 and replaced.
static inline __m256d expDet4(__m256d x, const solulens::DoubleExpConstants& k) {
    const __m256d zero = _mm256_setzero_pd();
    __m256d low = _mm256_cmp_pd(x, _mm256_set1_pd(k.low), _CMP_LT_OQ), high = _mm256_cmp_pd(x, _mm256_set1_pd(k.high), _CMP_GT_OQ);
    __m256d xc = _mm256_blendv_pd(x, zero, _mm256_or_pd(low, high));
    __m256d round = _mm256_set1_pd(k.round);
    __m256d t = _mm256_add_pd(_mm256_mul_pd(xc, _mm256_set1_pd(k.log2e)), round);
    __m256d n = _mm256_sub_pd(t, round);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(k.ln2hi), xc);   // fma(-n, ln2hi, xc): -n * ln2hi is exact
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(k.ln2lo), r);
    __m256d p = _mm256_fmadd_pd(r, _mm256_set1_pd(k.taylor[0]), _mm256_set1_pd(k.taylor[1]));
    for (int i = 2; i < 14; i++) {
        p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(k.taylor[i]));
    }
    __m256i bits = _mm256_slli_epi64(_mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(k.roundBits - 1023)), 52);
    __m256d y = _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
    y = _mm256_blendv_pd(y, zero, low);
    return _mm256_blendv_pd(y, _mm256_set1_pd(INFINITY), high);
}

// The lanes' sums added in lane order.
static inline double laneSum(__m256d acc) {
    double lanes[4];
    _mm256_storeu_pd(lanes, acc);
    double s = 0;
    for (int l = 0; l < 4; l++) {
        s += lanes[l];
    }
    return s;
}

// VectorExpSum.sum on 4 lanes: each lane's terms added in that lane, the lanes in order, then the tail.
template <bool A2, bool B>
static double expSum4(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta,
                      int v, double shift, const solulens::DoubleExpConstants& k) {
    const __m256d vShift = _mm256_set1_pd(shift), vAlpha = _mm256_set1_pd(alpha), vGamma = _mm256_set1_pd(gamma), vDelta = _mm256_set1_pd(delta);
    __m256d acc = _mm256_setzero_pd();
    int i = 0;
    for (; i + 4 <= v; i += 4) {
        __m256d x = _mm256_sub_pd(_mm256_loadu_pd(beta + i), vShift);
        x = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), vAlpha, x);
        if (A2) {
            x = _mm256_fmadd_pd(_mm256_loadu_pd(a2 + i), vGamma, x);
        }
        if (B) {
            x = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(b + i)), vDelta, x);
        }
        acc = _mm256_add_pd(acc, expDet4(x, k));
    }
    double s = laneSum(acc);
    return expSumTail<A2, B>(s, alpha, a, gamma, a2, delta, b, beta, i, v, shift, k);
}

// VectorExpSum.sumExp on 4 lanes.
[[maybe_unused]] static double sumExp4(const double* x, int n, double shift, const solulens::DoubleExpConstants& k) {
    const __m256d vShift = _mm256_set1_pd(shift);
    __m256d acc = _mm256_setzero_pd();
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        acc = _mm256_add_pd(acc, expDet4(_mm256_sub_pd(_mm256_loadu_pd(x + i), vShift), k));
    }
    double s = laneSum(acc);
    return sumExpTail(s, x, i, n, shift, k);
}

// VectorExpSum.expInto: each value on its own, so the lanes do not matter.
[[maybe_unused]] static void expInto(const double* x, int n, double shift, float* out, const solulens::DoubleExpConstants& k) {
    const __m256d vShift = _mm256_set1_pd(shift);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        _mm_storeu_ps(out + i, _mm256_cvtpd_ps(expDet4(_mm256_sub_pd(_mm256_loadu_pd(x + i), vShift), k)));
    }
    expIntoTail(x, i, n, shift, out, k);
}

#ifdef __AVX512F__
// expDet on 8 lanes (AVX-512F): expDet4's operations, the clamps as masks.
static inline __m512d expDet8(__m512d x, const solulens::DoubleExpConstants& k) {
    const __m512d zero = _mm512_setzero_pd();
    __mmask8 low = _mm512_cmp_pd_mask(x, _mm512_set1_pd(k.low), _CMP_LT_OQ), high = _mm512_cmp_pd_mask(x, _mm512_set1_pd(k.high), _CMP_GT_OQ);
    __m512d xc = _mm512_mask_blend_pd(low | high, x, zero);
    __m512d round = _mm512_set1_pd(k.round);
    __m512d t = _mm512_add_pd(_mm512_mul_pd(xc, _mm512_set1_pd(k.log2e)), round);
    __m512d n = _mm512_sub_pd(t, round);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(k.ln2hi), xc);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(k.ln2lo), r);
    __m512d p = _mm512_fmadd_pd(r, _mm512_set1_pd(k.taylor[0]), _mm512_set1_pd(k.taylor[1]));
    for (int i = 2; i < 14; i++) {
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(k.taylor[i]));
    }
    __m512i bits = _mm512_slli_epi64(_mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(k.roundBits - 1023)), 52);
    __m512d y = _mm512_mul_pd(p, _mm512_castsi512_pd(bits));
    y = _mm512_mask_blend_pd(low, y, zero);
    return _mm512_mask_blend_pd(high, y, _mm512_set1_pd(INFINITY));
}

static inline double laneSum8(__m512d acc) {
    double lanes[8];
    _mm512_storeu_pd(lanes, acc);
    double s = 0;
    for (int l = 0; l < 8; l++) {
        s += lanes[l];
    }
    return s;
}

// VectorExpSum.sum on 8 lanes.
template <bool A2, bool B>
static double expSum8(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta,
                      int v, double shift, const solulens::DoubleExpConstants& k) {
    const __m512d vShift = _mm512_set1_pd(shift), vAlpha = _mm512_set1_pd(alpha), vGamma = _mm512_set1_pd(gamma), vDelta = _mm512_set1_pd(delta);
    __m512d acc = _mm512_setzero_pd();
    int i = 0;
    for (; i + 8 <= v; i += 8) {
        __m512d x = _mm512_sub_pd(_mm512_loadu_pd(beta + i), vShift);
        x = _mm512_fmadd_pd(_mm512_loadu_pd(a + i), vAlpha, x);
        if (A2) {
            x = _mm512_fmadd_pd(_mm512_loadu_pd(a2 + i), vGamma, x);
        }
        if (B) {
            x = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(b + i)), vDelta, x);
        }
        acc = _mm512_add_pd(acc, expDet8(x, k));
    }
    double s = laneSum8(acc);
    return expSumTail<A2, B>(s, alpha, a, gamma, a2, delta, b, beta, i, v, shift, k);
}

// VectorExpSum.sumExp on 8 lanes.
static double sumExp8(const double* x, int n, double shift, const solulens::DoubleExpConstants& k) {
    const __m512d vShift = _mm512_set1_pd(shift);
    __m512d acc = _mm512_setzero_pd();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        acc = _mm512_add_pd(acc, expDet8(_mm512_sub_pd(_mm512_loadu_pd(x + i), vShift), k));
    }
    double s = laneSum8(acc);
    return sumExpTail(s, x, i, n, shift, k);
}

// VectorExpSum.expInto on 8 lanes (each value on its own: the same values as expInto).
static void expInto8(const double* x, int n, double shift, float* out, const solulens::DoubleExpConstants& k) {
    const __m512d vShift = _mm512_set1_pd(shift);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm512_cvtpd_ps(expDet8(_mm512_sub_pd(_mm512_loadu_pd(x + i), vShift), k)));
    }
    expIntoTail(x, i, n, shift, out, k);
}
#endif

}  // namespace SOLULENS_ISA

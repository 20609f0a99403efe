// The exact sweep's single-precision inner loop (java/.../cpu/VectorFloatExpSum.java) in C++. For one (position,
// neuron) pair it returns sum_v q[v] * exp(d_v), d_v = da*a[v] + da2*a2[v] + db*b[v] the ablation's change of logit v
// and q the clean probabilities, so that dloss = log(sum) - d_target; exp(d) is 2^(d log2 e) (FloatExp: round to
// k, 2^r by a degree-6 polynomial, k added to its exponent field), log2 e folded into the coefficients.
// Floor: per 8 lanes 9 operations on the FMA/multiply pipes (d's multiply and FMA, six Horner FMAs, the accumulating
// FMA), a rounding, a subtraction, 3 integer operations: ~4.5 cycles per 8 elements on a Zen 3 core's two FMA pipes,
// ~11e9/s on two cores at the ~3.1 GHz they boost to, a count no loop of these operations reached there. Measured on
// that 2-core Zen 3 VM (2026-12-07): this loop with its rows in L1 6.6-7.2e9/s (the floor as measured; the bare
// exponential alone 9.8-10.5e9/s), and 5.3-6.1e9/s in the sweep's tiles (JMH exp row), which reread q and A from L2
// for every neuron (benchmarks/NOTES.md).
// Operation for operation the Java loop's: the same float32 additions, multiplications and fused multiply-adds on the
// same values in the same order (k rounded by vroundps, which gives the same k as the Java loop's addition and
// subtraction of ROUND), so its sums are the Java loop's bits (tested). Included by a translation unit that
// defines SOLULENS_ISA (a namespace name) and is compiled with AVX2 and FMA, and with AVX-512 for the 16-lane form (the
// Vector API's width there); every lane operation is exactly rounded,
// so the scalar tail and the vector body agree with the Java loop's lanes. Never compile with -ffast-math or
// floating-point contraction (build.sh passes -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <immintrin.h>

#include "loop_inputs.h"

namespace SOLULENS_ISA {

// FloatExp.exp2: y = k + r, 2^r by Horner's rule, k added to its exponent field (FloatExp.scale: t's bits shifted
// left by 23 are k there, as ROUND's low 9 bits are zero).
static inline float exp2f_det(float y, const solulens::ExpConstants& k) {
    constexpr int D = solulens::ExpConstants::degree;
    float t = y + k.round;
    float r = y - (t - k.round);
    float p = std::fmaf(r, k.c[D], k.c[D - 1]);
    for (int i = D - 2; i >= 0; i--) {
        p = std::fmaf(p, r, k.c[i]);
    }
    uint32_t pBits, tBits;
    std::memcpy(&pBits, &p, 4);
    std::memcpy(&tBits, &t, 4);
    pBits += tBits << 23;
    std::memcpy(&p, &pBits, 4);
    return p;
}

// The vector loops' tail: elements [v, n) one at a time (da, da2, db already times log2 e), each added to s in turn.
template <bool MID>
static double tailSum(double s, const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int v, int n,
                      const solulens::ExpConstants& k) {
    for (; v < n; v++) {
        float d = db * b[v];
        if (MID) {
            d = std::fmaf(da2, a2[v], d);
        }
        d = std::fmaf(da, a[v], d);
        s += (double)(q[v] * exp2f_det(d, k));
    }
    return s;
}

// VectorFloatExpSum.sum on 8 lanes, in AVX2 intrinsics: blocks of 8 vectors summed per lane in float, widened, the
// lower and upper half of the lanes in two double accumulators, added in lane order at the end; the tail one element
// at a time. Written with intrinsics rather than as lane loops for gcc to vectorise: gcc's code for the lane loops
// kept the block's partial sums on the stack and re-broadcast the constants for every block; at site post it ran the
// sweep's tiles at 3.0-4.0e9/s on two Zen 3 cores, this at 4.0-5.0e9/s (a scratch tile benchmark, benchmarks/NOTES.md).
// Interleaving the Horner steps of 2, 4 or 8 vectors by hand was slower (2.4-4.5e9/s).
template <bool MID>
static double pairSum8(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                       const solulens::ExpConstants& k) {
    constexpr int L = 8, BLOCK = 8 * L;
    da *= k.log2e;
    da2 *= k.log2e;
    db *= k.log2e;
    const __m256 vda = _mm256_set1_ps(da), vda2 = _mm256_set1_ps(da2), vdb = _mm256_set1_ps(db);
    static_assert(solulens::ExpConstants::degree == 6, "the Horner steps below are written out for degree 6");
    const __m256 c0 = _mm256_set1_ps(k.c[0]), c1 = _mm256_set1_ps(k.c[1]), c2 = _mm256_set1_ps(k.c[2]), c3 = _mm256_set1_ps(k.c[3]);
    const __m256 c4 = _mm256_set1_ps(k.c[4]), c5 = _mm256_set1_ps(k.c[5]), c6 = _mm256_set1_ps(k.c[6]);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    int v = 0;
    for (; v + BLOCK <= n; v += BLOCK) {
        __m256 part = _mm256_setzero_ps();
        for (int j = v; j < v + BLOCK; j += L) {
            __m256 d = _mm256_mul_ps(_mm256_loadu_ps(b + j), vdb);
            if (MID) {
                d = _mm256_fmadd_ps(_mm256_loadu_ps(a2 + j), vda2, d);
            }
            d = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), vda, d);
            // exp2f_det on 8 lanes. k by vroundps rather than by adding and subtracting ROUND: the same k (both round
            // to nearest, ties to even, and |d| < 2^22 keeps k exact), so the same r and bits, with one dependent
            // operation fewer before the polynomial (4% faster in a scratch tile benchmark, benchmarks/NOTES.md)
            __m256 whole = _mm256_round_ps(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m256 r = _mm256_sub_ps(d, whole);
            __m256 p = _mm256_fmadd_ps(r, c6, c5);
            p = _mm256_fmadd_ps(p, r, c4);
            p = _mm256_fmadd_ps(p, r, c3);
            p = _mm256_fmadd_ps(p, r, c2);
            p = _mm256_fmadd_ps(p, r, c1);
            p = _mm256_fmadd_ps(p, r, c0);
            __m256i e = _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_cvtps_epi32(whole), 23));
            part = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_castsi256_ps(e), part);
        }
        acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(part)));
        acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(part, 1)));
    }
    double lanes0[4], lanes1[4];
    _mm256_storeu_pd(lanes0, acc0);
    _mm256_storeu_pd(lanes1, acc1);
    double s = 0;
    for (int l = 0; l < 4; l++) {
        s += lanes0[l];
    }
    for (int l = 0; l < 4; l++) {
        s += lanes1[l];
    }
    return tailSum<MID>(s, q, da, a, da2, a2, db, b, v, n, k);
}

[[maybe_unused]] static double sum8(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                                    const solulens::ExpConstants& k) {
    return a2 != nullptr ? pairSum8<true>(q, da, a, da2, a2, db, b, n, k) : pairSum8<false>(q, da, a, da2, a2, db, b, n, k);
}

// The 16-lane form of pairSum8 (VectorFloatExpSum on AVX-512): the same operations per lane, blocks of 8 vectors summed
// per lane in float, lanes 0-7 widened into acc0 and 8-15 into acc1, added in lane order at the end; compiled only in the
// AVX-512 translation unit. Floor: the same 9 FMA-pipe operations per 16 elements, ~11.4e9/s a core on a Zen 5 core's
// two 512-bit FMA pipes at ~3.2 GHz, ~22.7e9/s on two; the block's accumulator is a chain of 8 dependent FMAs (32
// cycles against the block's 36 of throughput). Measured on a 2-core Zen 5 VM (2026-12-07): 7.9-8.0e9/s a core with
// the rows in L1, 1.3-1.6e10/s on two, and 1.0-1.1e10/s in the sweep's tiles (JMH exp row; benchmarks/NOTES.md).
#ifdef __AVX512F__
template <bool MID>
static double pairSum16(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                        const solulens::ExpConstants& k) {
    constexpr int L = 16, BLOCK = 8 * L;
    da *= k.log2e;
    da2 *= k.log2e;
    db *= k.log2e;
    const __m512 vda = _mm512_set1_ps(da), vda2 = _mm512_set1_ps(da2), vdb = _mm512_set1_ps(db);
    static_assert(solulens::ExpConstants::degree == 6, "the Horner steps below are written out for degree 6");
    const __m512 c0 = _mm512_set1_ps(k.c[0]), c1 = _mm512_set1_ps(k.c[1]), c2 = _mm512_set1_ps(k.c[2]), c3 = _mm512_set1_ps(k.c[3]);
    const __m512 c4 = _mm512_set1_ps(k.c[4]), c5 = _mm512_set1_ps(k.c[5]), c6 = _mm512_set1_ps(k.c[6]);
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    int v = 0;
    for (; v + BLOCK <= n; v += BLOCK) {
        __m512 part = _mm512_setzero_ps();
        for (int j = v; j < v + BLOCK; j += L) {
            __m512 d = _mm512_mul_ps(_mm512_loadu_ps(b + j), vdb);
            if (MID) {
                d = _mm512_fmadd_ps(_mm512_loadu_ps(a2 + j), vda2, d);
            }
            d = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), vda, d);
            // k by vrndscaleps (round to nearest, ties to even): the same k as pairSum8's vroundps
            __m512 whole = _mm512_roundscale_ps(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m512 r = _mm512_sub_ps(d, whole);
            __m512 p = _mm512_fmadd_ps(r, c6, c5);
            p = _mm512_fmadd_ps(p, r, c4);
            p = _mm512_fmadd_ps(p, r, c3);
            p = _mm512_fmadd_ps(p, r, c2);
            p = _mm512_fmadd_ps(p, r, c1);
            p = _mm512_fmadd_ps(p, r, c0);
            __m512i e = _mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_cvtps_epi32(whole), 23));
            part = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), _mm512_castsi512_ps(e), part);
        }
        acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(part)));
        acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(part), 1))));
    }
    double lanes0[8], lanes1[8];
    _mm512_storeu_pd(lanes0, acc0);
    _mm512_storeu_pd(lanes1, acc1);
    double s = 0;
    for (int l = 0; l < 8; l++) {
        s += lanes0[l];
    }
    for (int l = 0; l < 8; l++) {
        s += lanes1[l];
    }
    return tailSum<MID>(s, q, da, a, da2, a2, db, b, v, n, k);
}

static double sum16(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                    const solulens::ExpConstants& k) {
    return a2 != nullptr ? pairSum16<true>(q, da, a, da2, a2, db, b, n, k) : pairSum16<false>(q, da, a, da2, a2, db, b, n, k);
}
#endif

using PairSum = double (*)(const float*, float, const float*, float, const float*, float, const float*, int, const solulens::ExpConstants&);

// ExactSweep's tile: every admitted (position, neuron) pair's sum, the vocabulary walked in chunks (the same chunks for
// every tiling, so each pair's sum is added in the same order), each chunk's sum added to sums[t] in double. Within a
// chunk, positions outside and neurons inside: a position's q and A chunks (two rows' worth, 16 KB) stay in L1 while
// the tile's B chunks (8 KB each) come from L2, half the L2 traffic of the other order (which reread q and A for every
// neuron). The sweep's tiles on a 2-core Zen 5 VM: 0.58-0.72 s against 0.70-0.85 s, alternated (benchmarks/NOTES.md).
template <PairSum SUM>
static void sweepTile(const solulens::Tile& t, const solulens::ExpConstants& k) {
    for (int64_t v0 = 0; v0 < t.vocab; v0 += t.chunk) {
        int len = (int)(t.vocab - v0 < t.chunk ? t.vocab - v0 : t.chunk);
        for (int i = 0; i < t.positions; i++) {
            int64_t row = (int64_t)(t.q0 + i) * t.vocab + v0;
            for (int j = 0; j < t.neurons; j++) {
                const float* b = t.b + (int64_t)(t.n0 + j) * t.vocab + v0;
                int p = i * t.neurons + j;
                if (!t.admitted[p]) {
                    continue;
                }
                t.sums[p] += SUM(t.q + row, (float)t.dA[p], t.a + row, (float)t.dA2[p], t.a2 == nullptr ? nullptr : t.a2 + row,
                                 (float)t.dB[p], b, len, k);
            }
        }
    }
}

}  // namespace SOLULENS_ISA

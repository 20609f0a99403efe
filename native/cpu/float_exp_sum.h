// The exact sweep's single-precision inner loop (java/.../cpu/VectorFloatExpSum.java) in C++. For one (position,
// neuron) pair it returns sum_v q[v] * exp(d_v), d_v = da*a[v] + da2*a2[v] + db*b[v] the ablation's change of logit v
// and q the clean probabilities, so that dloss = log(sum) - d_target; exp(d) is 2^(d log2 e) (FloatExp: round to
// k, 2^r by a degree-7 polynomial, 2^k in the exponent bits), log2 e folded into the coefficients.
// Floor: per 8 lanes 11 operations on the FMA/multiply pipes (d's multiply and FMA, seven Horner FMAs, the scaling,
// the accumulating FMA), 3 additions, 2 integer operations: ~5.5 cycles per 8 elements on a Zen 3 core's two FMA
// pipes, 7.1e9/s on two cores at 2.45 GHz; measured 3.2-3.5e9/s in the sweep's tiles (benchmarks/NOTES.md).
// Operation for operation the Java loop's: the same float32 additions, multiplications and fused multiply-adds on the
// same values in the same order, so its sums are the Java loop's bits (tested). Included by a translation unit that
// defines SOLULENS_ISA (a namespace name) and is compiled with that instruction set's flags; the compiler vectorises
// the lane loops, and because every lane operation is exactly rounded, vectorised or not gives the same bits. Never
// compile with -ffast-math or floating-point contraction (build.sh passes -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "loop_inputs.h"

namespace SOLULENS_ISA {

// FloatExp.exp2: y = k + r, 2^r by Horner's rule, 2^k in the exponent bits.
static inline float exp2f_det(float y, const solulens::ExpConstants& k) {
    float t = y + k.round;
    float r = y - (t - k.round);
    float p = std::fmaf(r, k.c[7], k.c[6]);
    for (int i = 5; i >= 0; i--) {
        p = std::fmaf(p, r, k.c[i]);
    }
    int32_t bits;
    std::memcpy(&bits, &t, 4);
    bits = (int32_t)((uint32_t)(bits - (k.roundBits - 127)) << 23);
    float scale;
    std::memcpy(&scale, &bits, 4);
    return p * scale;
}

// VectorFloatExpSum.sum with L lanes: blocks of 8 vectors summed per lane in float, widened, the lower and upper half
// of the lanes in two double accumulators, added in lane order at the end; the tail one element at a time.
template <int L, bool MID>
static double pairSum(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                      const solulens::ExpConstants& k) {
    constexpr int H = L / 2, BLOCK = 8 * L;
    da *= k.log2e;
    da2 *= k.log2e;
    db *= k.log2e;
    double acc0[H] = {}, acc1[H] = {};
    int v = 0;
    for (; v + BLOCK <= n; v += BLOCK) {
        float part[L] = {};
        for (int j = v; j < v + BLOCK; j += L) {
            for (int l = 0; l < L; l++) {
                float d = b[j + l] * db;
                if (MID) {
                    d = std::fmaf(a2[j + l], da2, d);
                }
                d = std::fmaf(a[j + l], da, d);
                part[l] = std::fmaf(q[j + l], exp2f_det(d, k), part[l]);
            }
        }
        for (int l = 0; l < H; l++) {
            acc0[l] += (double)part[l];
            acc1[l] += (double)part[H + l];
        }
    }
    double s = 0;
    for (int l = 0; l < H; l++) {
        s += acc0[l];
    }
    for (int l = 0; l < H; l++) {
        s += acc1[l];
    }
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

template <int L>
static double sum(const float* q, float da, const float* a, float da2, const float* a2, float db, const float* b, int n,
                  const solulens::ExpConstants& k) {
    return a2 != nullptr ? pairSum<L, true>(q, da, a, da2, a2, db, b, n, k) : pairSum<L, false>(q, da, a, da2, a2, db, b, n, k);
}

// ExactSweep's tile: every admitted (position, neuron) pair's sum, the vocabulary walked in chunks (the same chunks for
// every tiling, so each pair's sum is added in the same order), each chunk's sum added to sums[t] in double.
template <int L>
static void sweepTile(const solulens::Tile& t, const solulens::ExpConstants& k) {
    for (int64_t v0 = 0; v0 < t.vocab; v0 += t.chunk) {
        int len = (int)(t.vocab - v0 < t.chunk ? t.vocab - v0 : t.chunk);
        for (int j = 0; j < t.neurons; j++) {
            const float* b = t.b + (int64_t)(t.n0 + j) * t.vocab + v0;
            for (int i = 0; i < t.positions; i++) {
                int p = i * t.neurons + j;
                if (!t.admitted[p]) {
                    continue;
                }
                int64_t row = (int64_t)(t.q0 + i) * t.vocab + v0;
                t.sums[p] += sum<L>(t.q + row, (float)t.dA[p], t.a + row, (float)t.dA2[p], t.a2 == nullptr ? nullptr : t.a2 + row,
                                    (float)t.dB[p], b, len, k);
            }
        }
    }
}

}  // namespace SOLULENS_ISA

// The exact sweep's double inner loops and the loss's softmax sums (java/.../cpu/VectorExpSum.java with
// DeterministicExp) in C++: sum_v exp(alpha*a[v] + gamma*a2[v] + delta*b[v] + beta[v] - shift), sum_i exp(x[i] - shift)
// and exp(x[i] - shift) rounded to float. exp is DoubleExp's: x = k ln 2 + r (ln 2 in two parts), e^r by its Taylor
// series to r^13, 2^k in the exponent bits; 0 below -708, infinity above 709. Floor: ~19 FMA-pipe operations per 4
// lanes (the logit's FMAs, the reduction, 13 Horner FMAs, the scaling), ~9.5 cycles per 4 elements on a Zen 3 core's
// two FMA pipes, ~1e9/s a core at 2.45 GHz (a count, not measured); these loops run once per position (and per pair on the double path), not per (pair, word)
// like the float loop. Operation for operation on 4 double lanes, so the sums are the Java loops' bits (tested).
// Included by the AVX2 translation unit; the compiler vectorises the lane loops. Never compile with -ffast-math or
// floating-point contraction.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

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

// VectorExpSum.sum with L lanes: each lane's terms added in that lane, the lanes in order, then the tail.
template <int L, bool A2, bool B>
static double expSum(double alpha, const double* a, double gamma, const double* a2, double delta, const float* b, const double* beta,
                     int v, double shift, const solulens::DoubleExpConstants& k) {
    double acc[L] = {};
    int i = 0;
    for (; i + L <= v; i += L) {
        for (int l = 0; l < L; l++) {
            double x = beta[i + l] - shift;
            x = std::fma(a[i + l], alpha, x);
            if (A2) {
                x = std::fma(a2[i + l], gamma, x);
            }
            if (B) {
                x = std::fma((double)b[i + l], delta, x);
            }
            acc[l] += expDet(x, k);
        }
    }
    double s = 0;
    for (int l = 0; l < L; l++) {
        s += acc[l];
    }
    for (; i < v; i++) {
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

// VectorExpSum.sumExp.
template <int L>
static double sumExp(const double* x, int n, double shift, const solulens::DoubleExpConstants& k) {
    double acc[L] = {};
    int i = 0;
    for (; i + L <= n; i += L) {
        for (int l = 0; l < L; l++) {
            acc[l] += expDet(x[i + l] - shift, k);
        }
    }
    double s = 0;
    for (int l = 0; l < L; l++) {
        s += acc[l];
    }
    for (; i < n; i++) {
        s += expDet(x[i] - shift, k);
    }
    return s;
}

// VectorExpSum.expInto: each value on its own, so the lanes do not matter.
static void expInto(const double* x, int n, double shift, float* out, const solulens::DoubleExpConstants& k) {
    for (int i = 0; i < n; i++) {
        out[i] = (float)expDet(x[i] - shift, k);
    }
}

}  // namespace SOLULENS_ISA

package org.solulens.cpu;

/**
 * 2^y in float32 from IEEE single-precision additions, multiplications and fused multiply-adds only, each exactly
 * rounded, so that {@link VectorFloatExpSum}'s lanes and this scalar form give the same bits whether the JIT has compiled
 * them or not. y = k + r with k = round(y) (by adding 1.5·2^23) and |r| ≤ 1/2 (r = y - k is exact), 2^r = e^(r ln 2) by
 * its Taylor series to r^7 (truncation below 6e-9), times 2^k built in the exponent bits. The sweep's exponentials are
 * e^d = 2^(d log2 e), with log2 e folded into the coefficients that make d.
 *
 * <p>Domain: |y| ≤ {@link #DOMAIN} only; nothing is clamped (the exact sweep's float path admits only |d| ≤ 20, i.e.
 * |y| ≤ 29, and a clamp would cost a vector operation in the innermost loop). Within 2e-7 relative there (tested).
 */
final class FloatExp {
    static final float DOMAIN = 120f;
    static final float LOG2E = 1.44269504f;
    static final float ROUND = 12582912f;                           // 1.5 · 2^23: y + ROUND - ROUND is y rounded to an integer
    static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** (ln 2)^k / k! for k = 7 down to 0, in Horner order. */
    static final float C7 = c(7), C6 = c(6), C5 = c(5), C4 = c(4), C3 = c(3), C2 = c(2), C1 = c(1), C0 = 1f;

    private FloatExp() {}

    private static float c(int k) {
        double x = 1;
        for (int i = 1; i <= k; i++) {
            x *= Math.log(2) / i;
        }
        return (float) x;
    }

    static float exp2(float y) {
        float t = y + ROUND;
        float k = t - ROUND;
        float r = y - k;
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, C1);
        p = Math.fma(p, r, C0);
        // t's bits are ROUND's plus k: 2^k is (k + 127) in the exponent field
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
    }
}

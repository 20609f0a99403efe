package org.solulens.cpu;

/**
 * e^x in float32 from IEEE single-precision fused multiply-adds, multiplications and additions only, each exactly rounded,
 * so that {@link VectorFloatExpSum}'s lanes and this scalar form give the same bits whether the JIT has compiled them or
 * not. x = k ln 2 + r with k = round(x log2 e) (by adding 1.5·2^23 in one fused multiply-add) and |r| ≤ ln 2 / 2 (ln 2
 * in two parts), e^r by its Taylor series to r^7 (truncation below 6e-9), times 2^k built in the exponent bits.
 *
 * <p>Domain: |x| ≤ {@link #DOMAIN} only; nothing is clamped (the exact sweep's float path admits only |x| ≤ 20, and a
 * clamp would cost a vector operation in the innermost loop). Within 2e-7 relative of {@code Math.exp} there (tested).
 */
final class FloatExp {
    static final float DOMAIN = 80f;
    static final float LOG2E = 1.44269504f;
    static final float LN2_HI = 0.693147182f;                        // ln 2 rounded to float
    static final float LN2_LO = (float) (Math.log(2) - LN2_HI);      // the rest, -1.9e-9
    static final float ROUND = 12582912f;                           // 1.5 · 2^23: t - ROUND is x log2 e rounded to an integer
    static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** 1/k! for k = 7 down to 0, in Horner order. */
    static final float C7 = 1f / 5040, C6 = 1f / 720, C5 = 1f / 120, C4 = 1f / 24, C3 = 1f / 6, C2 = 0.5f, C1 = 1f, C0 = 1f;

    private FloatExp() {}

    static float exp(float x) {
        float t = Math.fma(x, LOG2E, ROUND);
        float k = t - ROUND;
        float r = Math.fma(-k, LN2_HI, x);
        r = Math.fma(-k, LN2_LO, r);
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

package org.solulens.cpu;

/**
 * 2^y in float32 from IEEE single-precision additions and fused multiply-adds, each exactly rounded, and one integer
 * addition, so that {@link VectorFloatExpSum}'s lanes and this scalar form give the same bits whether the JIT has compiled
 * them or not. y = k + r with k = round(y) (by adding 1.5·2^23) and |r| ≤ 1/2 (r = y - k is exact), 2^r by a degree-6
 * polynomial, and 2^k added to its exponent field. The polynomial is the minimax fit of 2^r on [-1/2, 1/2] (relative
 * error 1.9e-9 before its coefficients are rounded to float; {@code tools/exp2_coefficients.py} computes them); in
 * float32, roundings included, it is within 8.0e-8 of 2^r for every float r there (all checked against a long double
 * reference by a scratch program, benchmarks/NOTES.md; the tests check 4.2M of them), as Taylor's series to r^7 was
 * (7.3e-8) with one fused multiply-add more. The sweep's exponentials are e^d = 2^(d log2 e), with log2 e folded into
 * the coefficients that make d.
 *
 * <p>Domain: |y| ≤ {@link #DOMAIN} only; nothing is clamped (the exact sweep's float path admits only |d| ≤ 20, i.e.
 * |y| ≤ 29, and a clamp would cost a vector operation in the innermost loop). Within 1e-7 relative there (tested).
 */
final class FloatExp {
    static final float DOMAIN = 120f;
    static final float LOG2E = 1.44269504f;
    static final float ROUND = 12582912f;                           // 1.5 · 2^23: y + ROUND - ROUND is y rounded to an integer
    /** The polynomial's coefficients of r^0 .. r^6 ({@code tools/exp2_coefficients.py}). */
    static final float C0 = 0x1p+0f, C1 = 0x1.62e43p-1f, C2 = 0x1.ebfbdap-3f, C3 = 0x1.c6aed4p-5f, C4 = 0x1.3b2dbcp-7f,
            C5 = 0x1.5f456ap-10f, C6 = 0x1.41d334p-13f;

    private FloatExp() {}

    static float exp2(float y) {
        float t = y + ROUND;
        float k = t - ROUND;
        float r = y - k;
        float p = Math.fma(r, C6, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, C1);
        p = Math.fma(p, r, C0);
        return scale(p, t);
    }

    /**
     * p · 2^k, k = t - ROUND: k added to p's exponent field. t's bits are ROUND's plus k, and ROUND's low 9 bits are
     * zero, so t's bits shifted left by 23 are k in the exponent field (modulo 2^32, which makes a negative k a
     * subtraction). Exactly p times 2^k, as p is within [0.7, 1.42] and |k| ≤ 120 keeps the result a normal float; an
     * integer addition instead of a float multiplication, which takes the vector loops' arithmetic pipes one operation
     * fewer.
     */
    static float scale(float p, float t) {
        return Float.intBitsToFloat(Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(t) << 23));
    }
}

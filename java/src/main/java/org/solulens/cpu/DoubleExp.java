package org.solulens.cpu;

/**
 * e^x in double from IEEE additions, multiplications and fused multiply-adds only, each exactly rounded, so that a lane
 * of a vector form ({@link DeterministicExp}, native/cpu) and this scalar form give the same bits whether the JIT has
 * compiled them or not. x = k ln 2 + r with k = round(x / ln 2) (by adding 1.5·2^52) and |r| ≤ ln 2 / 2 (ln 2 in two
 * parts), e^r by its Taylor series to r^13 (truncation below 1e-17), times 2^k built in the exponent bits. Within 2 ulps
 * of Math.exp on [-708, 709]; below -708 it returns 0 (sums of such terms are unaffected), above 709 infinity. Needs
 * no Vector API.
 */
final class DoubleExp {
    static final double LOG2E = 1.4426950408889634, LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;
    static final double ROUND = 6755399441055744.0;   // 1.5 · 2^52: x + ROUND - ROUND rounds x to an integer
    static final double LOW = -708.0, HIGH = 709.0;
    /** 1/k! for k = 13 down to 0 (the factorials are exact in double), in Horner order. */
    static final double[] TAYLOR = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
            1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};

    private DoubleExp() {}

    static double exp(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < LOW) {
            return 0;
        }
        if (x > HIGH) {
            return Double.POSITIVE_INFINITY;
        }
        double k = x * LOG2E + ROUND - ROUND;
        double r = Math.fma(-k, LN2_HI, x);
        r = Math.fma(-k, LN2_LO, r);
        double p = TAYLOR[0];
        for (int i = 1; i < TAYLOR.length; i++) {
            p = Math.fma(p, r, TAYLOR[i]);
        }
        return p * Double.longBitsToDouble(((long) k + 1023) << 52);
    }


    /** The constants in the order native/cpu reads them: LOG2E, LN2_HI, LN2_LO, ROUND, LOW, HIGH, then the 14 coefficients. */
    static double[] constants() {
        double[] c = new double[6 + TAYLOR.length];
        c[0] = LOG2E;
        c[1] = LN2_HI;
        c[2] = LN2_LO;
        c[3] = ROUND;
        c[4] = LOW;
        c[5] = HIGH;
        System.arraycopy(TAYLOR, 0, c, 6, TAYLOR.length);
        return c;
    }
}

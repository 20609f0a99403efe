package org.solulens.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x in double from IEEE additions, multiplications and fused multiply-adds only, each exactly rounded, so that a lane
 * of the vector form and the scalar form give the same bits whether the JIT has compiled them or not (the Vector API's
 * own EXP does not: see {@link VectorExpSum}). x = k ln 2 + r with k = round(x / ln 2) (by adding 1.5·2^52) and
 * |r| ≤ ln 2 / 2 (ln 2 in two parts), e^r by its Taylor series to r^13 (truncation below 1e-17), times 2^k built in the
 * exponent bits. Within 2 ulps of Math.exp on [-708, 709]; below -708 it returns 0 (sums of such terms are unaffected),
 * above 709 infinity. Only loaded with the {@code jdk.incubator.vector} module.
 */
final class DeterministicExp {
    private static final double LOG2E = 1.4426950408889634, LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;
    private static final double ROUND = 6755399441055744.0;   // 1.5 · 2^52: x + ROUND - ROUND rounds x to an integer
    private static final double LOW = -708.0, HIGH = 709.0;
    /** 1/k! for k = 13 down to 0 (the factorials are exact in double), in Horner order. */
    private static final double[] TAYLOR = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
            1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};

    private DeterministicExp() {}

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

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final DoubleVector V_LN2_HI = DoubleVector.broadcast(D, LN2_HI), V_LN2_LO = DoubleVector.broadcast(D, LN2_LO);
    // the coefficients as separate constants: C2 keeps them in registers (an array of vectors ran 5x slower)
    private static final DoubleVector T1 = b(0), T2 = b(1), T3 = b(2), T4 = b(3), T5 = b(4), T6 = b(5), T7 = b(6), T8 = b(7), T9 = b(8),
            T10 = b(9), T11 = b(10), T12 = b(11), T13 = b(12), T14 = b(13);

    private static DoubleVector b(int i) {
        return DoubleVector.broadcast(D, TAYLOR[i]);
    }
    private static final long ROUND_BITS = Double.doubleToRawLongBits(ROUND);

    /** The lanes of {@code x} (of the preferred species) exponentiated, each exactly as {@link #exp(double)} does. */
    static DoubleVector exp(DoubleVector x) {
        VectorMask<Double> low = x.compare(VectorOperators.LT, LOW), high = x.compare(VectorOperators.GT, HIGH);
        DoubleVector xc = x.blend(0.0, low.or(high));   // clamped lanes are replaced below; NaN lanes stay NaN
        DoubleVector t = xc.mul(LOG2E).add(ROUND);
        DoubleVector k = t.sub(ROUND);
        DoubleVector r = k.neg().fma(V_LN2_HI, xc);
        r = k.neg().fma(V_LN2_LO, r);
        // Horner, written out: a loop over an array of vectors keeps C2 from keeping them in registers
        DoubleVector p = r.fma(T1, T2);
        p = p.fma(r, T3);
        p = p.fma(r, T4);
        p = p.fma(r, T5);
        p = p.fma(r, T6);
        p = p.fma(r, T7);
        p = p.fma(r, T8);
        p = p.fma(r, T9);
        p = p.fma(r, T10);
        p = p.fma(r, T11);
        p = p.fma(r, T12);
        p = p.fma(r, T13);
        p = p.fma(r, T14);
        // t's bits are ROUND's plus k (|k| < 2^51): 2^k is (k + 1023) in the exponent field, without a conversion
        LongVector bits = ((LongVector) t.reinterpretAsLongs()).sub(ROUND_BITS - 1023).lanewise(VectorOperators.LSHL, 52);
        DoubleVector y = p.mul(bits.reinterpretAsDoubles());
        return y.blend(0.0, low).blend(Double.POSITIVE_INFINITY, high);
    }
}

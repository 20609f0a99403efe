package org.solulens.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The lanes of a vector exponentiated, each exactly as {@link DoubleExp#exp(double)} computes it (the Vector API's own
 * EXP does not give the same bits compiled and interpreted: see {@link VectorExpSum}). Only loaded with the
 * {@code jdk.incubator.vector} module.
 */
final class DeterministicExp {
    private DeterministicExp() {}

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final DoubleVector V_LN2_HI = DoubleVector.broadcast(D, DoubleExp.LN2_HI), V_LN2_LO = DoubleVector.broadcast(D, DoubleExp.LN2_LO);
    // the coefficients as separate constants: C2 keeps them in registers (an array of vectors ran 5x slower)
    private static final DoubleVector T1 = b(0), T2 = b(1), T3 = b(2), T4 = b(3), T5 = b(4), T6 = b(5), T7 = b(6), T8 = b(7), T9 = b(8),
            T10 = b(9), T11 = b(10), T12 = b(11), T13 = b(12), T14 = b(13);

    private static DoubleVector b(int i) {
        return DoubleVector.broadcast(D, DoubleExp.TAYLOR[i]);
    }
    private static final long ROUND_BITS = Double.doubleToRawLongBits(DoubleExp.ROUND);

    /** The lanes of {@code x} (of the preferred species) exponentiated, each exactly as {@link DoubleExp#exp(double)} does. */
    static DoubleVector exp(DoubleVector x) {
        VectorMask<Double> low = x.compare(VectorOperators.LT, DoubleExp.LOW), high = x.compare(VectorOperators.GT, DoubleExp.HIGH);
        DoubleVector xc = x.blend(0.0, low.or(high));   // clamped lanes are replaced below; NaN lanes stay NaN
        DoubleVector t = xc.mul(DoubleExp.LOG2E).add(DoubleExp.ROUND);
        DoubleVector k = t.sub(DoubleExp.ROUND);
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

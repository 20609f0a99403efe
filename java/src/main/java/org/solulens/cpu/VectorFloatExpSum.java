package org.solulens.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatExpSum} on the JDK's Vector API: float lanes at the machine's preferred width (16 with AVX-512), each
 * lane's exponential exactly {@link FloatExp#exp2(float)}'s operations, so compiled and interpreted loops give the same
 * bits. Eight vectors of terms are added in float (a relative error of at most 8 · 2^-24 per partial sum), then widened
 * and added in double; the double lanes are added in lane order at the end. Only loaded with the
 * {@code jdk.incubator.vector} module.
 *
 * <p>Floor: per 16 elements 3 loads (q, A, a row of B), 2 operations for d, 9 for 2^y (round, two subtractions, six
 * Horner FMAs) plus 2 integer operations for 2^k (a shift, an addition), 1 FMA to accumulate: ~16 vector operations.
 * Measured on the 2-core AVX-512 VM (2026-12-06, nominal 2.1 GHz), with the degree-7 polynomial and a multiplication by
 * 2^k then (19 operations): 6.15e9 exponentials a second in the sweep's tile pattern (JMH {@code exp}), ~0.9 of the
 * count at two operations a cycle (benchmarks/NOTES.md).
 */
final class VectorFloatExpSum implements FloatExpSum {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles of the same total width: a float vector widens into two of them. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int BLOCK = 8 * F.length();
    private static final FloatVector ROUND = f(FloatExp.ROUND);
    // the coefficients as separate constants, so that C2 keeps them in registers
    private static final FloatVector C6 = f(FloatExp.C6), C5 = f(FloatExp.C5), C4 = f(FloatExp.C4), C3 = f(FloatExp.C3), C2 = f(FloatExp.C2),
            C1 = f(FloatExp.C1), C0 = f(FloatExp.C0);

    static {
        if (D.vectorBitSize() != F.vectorBitSize()) {
            throw new IllegalStateException("float and double preferred species differ in width: " + F + ", " + D);
        }
    }

    /** Float lanes per vector here (8 with AVX2, 16 with AVX-512). */
    static int lanes() {
        return F.length();
    }

    private static FloatVector f(float x) {
        return FloatVector.broadcast(F, x);
    }
    /** 2 to the lanes of y, each exactly as {@link FloatExp#exp2(float)} computes it. */
    static FloatVector exp2(FloatVector y) {
        FloatVector t = y.add(ROUND);
        FloatVector r = y.sub(t.sub(ROUND));
        FloatVector p = r.fma(C6, C5);
        p = p.fma(r, C4);
        p = p.fma(r, C3);
        p = p.fma(r, C2);
        p = p.fma(r, C1);
        p = p.fma(r, C0);
        // FloatExp.scale: k added to p's exponent field
        IntVector k = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23);
        return ((IntVector) p.reinterpretAsInts()).add(k).reinterpretAsFloats();
    }

    @Override
    public double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n) {
        da *= FloatExp.LOG2E;
        da2 *= FloatExp.LOG2E;
        db *= FloatExp.LOG2E;
        FloatVector vDa = f(da), vDa2 = f(da2), vDb = f(db);
        DoubleVector acc0 = DoubleVector.zero(D), acc1 = DoubleVector.zero(D);
        int lanes = F.length(), v = 0;
        for (; v + BLOCK <= n; v += BLOCK) {
            FloatVector part = FloatVector.zero(F);
            for (int j = v; j < v + BLOCK; j += lanes) {
                // d = da·a + da2·a2 + db·b, in FloatExpSum.logitChange's order
                FloatVector d = FloatVector.fromArray(F, b, bo + j).mul(vDb);
                if (a2 != null) {
                    d = FloatVector.fromArray(F, a2, a2o + j).fma(vDa2, d);
                }
                d = FloatVector.fromArray(F, a, ao + j).fma(vDa, d);
                part = FloatVector.fromArray(F, q, qo + j).fma(exp2(d), part);
            }
            acc0 = acc0.add(part.convertShape(VectorOperators.F2D, D, 0));
            acc1 = acc1.add(part.convertShape(VectorOperators.F2D, D, 1));
        }
        double s = 0;
        for (double lane : acc0.toArray()) {
            s += lane;
        }
        for (double lane : acc1.toArray()) {
            s += lane;
        }
        for (; v < n; v++) {
            s += q[qo + v] * FloatExp.exp2(FloatExpSum.logitChange(da, a[ao + v], da2, a2 == null ? 0 : a2[a2o + v], db, b[bo + v], a2 != null));
        }
        return s;
    }

    @Override
    public String name() {
        return "vector float exp (" + F + ", deterministic)";
    }
}

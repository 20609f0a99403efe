package org.solulens.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ExpSum} on the JDK's Vector API: lanes of doubles at the machine's preferred width, with the float32 rows of
 * B widened lane by lane. Only loaded when the {@code jdk.incubator.vector} module is present.
 *
 * <p>The exponential is {@link DeterministicExp}, not the Vector API's own {@code EXP}: that one is the CPU's vector
 * math library once the JIT has compiled the loop and {@code Math.exp} lane by lane before, so the same sum came out a
 * few ulps apart early and late in a run — a corpus sweep resumed, or batched differently, gave different last digits.
 * The lane sums are added in lane order for the same reason ({@code reduceLanes(ADD)} may add in any order).
 */
final class VectorExpSum implements ExpSum {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats at half the width, so that widening them fills exactly one double vector. */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(D.vectorBitSize() / 2));

    /** Double lanes per vector here (4 with AVX2, 8 with AVX-512). */
    static int lanes() {
        return D.length();
    }

    @Override
    public double sum(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo,
                      double[] beta, int v, double shift) {
        int lanes = D.length(), i = 0;
        DoubleVector acc = DoubleVector.zero(D);
        DoubleVector vAlpha = DoubleVector.broadcast(D, alpha), vDelta = DoubleVector.broadcast(D, delta), vGamma = DoubleVector.broadcast(D, gamma);
        for (; i + lanes <= v; i += lanes) {
            DoubleVector l = DoubleVector.fromArray(D, beta, i).sub(shift);
            l = DoubleVector.fromArray(D, a, ao + i).fma(vAlpha, l);
            if (a2 != null) {
                l = DoubleVector.fromArray(D, a2, ao + i).fma(vGamma, l);
            }
            if (b != null) {
                DoubleVector bd = (DoubleVector) FloatVector.fromArray(F, b, bo + i).convertShape(VectorOperators.F2D, D, 0);
                l = bd.fma(vDelta, l);
            }
            acc = acc.add(DeterministicExp.exp(l));
        }
        double s = inLaneOrder(acc);
        for (; i < v; i++) {
            double l = beta[i] - shift;
            l = Math.fma(a[ao + i], alpha, l);
            if (a2 != null) {
                l = Math.fma(a2[ao + i], gamma, l);
            }
            if (b != null) {
                l = Math.fma(b[bo + i], delta, l);
            }
            s += DoubleExp.exp(l);
        }
        return s;
    }

    @Override
    public double sumExp(double[] x, int offset, int n, double shift) {
        int lanes = D.length(), i = 0;
        DoubleVector acc = DoubleVector.zero(D);
        for (; i + lanes <= n; i += lanes) {
            acc = acc.add(DeterministicExp.exp(DoubleVector.fromArray(D, x, offset + i).sub(shift)));
        }
        double s = inLaneOrder(acc);
        for (; i < n; i++) {
            s += DoubleExp.exp(x[offset + i] - shift);
        }
        return s;
    }

    @Override
    public void expInto(double[] x, int offset, int n, double shift, float[] out, int outOffset) {
        int lanes = D.length(), i = 0;
        for (; i + lanes <= n; i += lanes) {
            DoubleVector e = DeterministicExp.exp(DoubleVector.fromArray(D, x, offset + i).sub(shift));
            ((FloatVector) e.convertShape(VectorOperators.D2F, F, 0)).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = (float) DoubleExp.exp(x[offset + i] - shift);
        }
    }

    private static double inLaneOrder(DoubleVector acc) {
        double s = 0;
        for (double lane : acc.toArray()) {
            s += lane;
        }
        return s;
    }

    @Override
    public String name() {
        return "vector exp (" + D + ", deterministic)";
    }
}

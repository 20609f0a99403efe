package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector and scalar inner loops of the exact sweep give the same sums. */
class ExpSumTest {
    @Test
    void vectorAndScalarSumsAgreeToRoundingForAnyLengthAndBothSites() {
        assertTrue(ExpSum.best() != ExpSum.SCALAR, "tests run with --add-modules jdk.incubator.vector: " + ExpSum.best().name());
        Random rng = new Random(42);
        for (int v : new int[] {1, 7, 8, 9, 31, 1000, 4099}) {
            double[] a = new double[v + 5], a2 = new double[v + 5], beta = new double[v];
            float[] b = new float[v + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = 3 * rng.nextGaussian();
                a2[i] = rng.nextGaussian();
            }
            for (int i = 0; i < v; i++) {
                beta[i] = rng.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rng.nextGaussian();
            }
            for (double[] second : new double[][] {null, a2}) {
                double s = ExpSum.SCALAR.sum(0.8, a, 1.3, second, 5, -0.4, b, 3, beta, v, 9.5);
                double t = new VectorExpSum().sum(0.8, a, 1.3, second, 5, -0.4, b, 3, beta, v, 9.5);
                assertEquals(s, t, 1e-14 * s, "V = " + v);
                double noB = ExpSum.SCALAR.sum(0.8, a, 1.3, second, 5, 0, null, 0, beta, v, 9.5);
                assertEquals(noB, new VectorExpSum().sum(0.8, a, 1.3, second, 5, 0, null, 0, beta, v, 9.5), 1e-14 * noB);
            }
        }
    }

    @Test
    void vectorAndScalarSoftmaxSumsAgreeAtAnyOffsetAndLength() {
        Random rng = new Random(43);
        double[] x = new double[5000];
        for (int i = 0; i < x.length; i++) {
            x[i] = 4 * rng.nextGaussian();
        }
        for (int n : new int[] {1, 7, 8, 9, 1000, 4093}) {
            for (int offset : new int[] {0, 3, 900}) {
                double s = ExpSum.SCALAR.sumExp(x, offset, n, 2.5);
                assertEquals(s, new VectorExpSum().sumExp(x, offset, n, 2.5), 1e-14 * s, "n = " + n + ", offset " + offset);
            }
        }
    }
}

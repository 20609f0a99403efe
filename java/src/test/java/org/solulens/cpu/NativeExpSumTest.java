package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The C++ double loops (native/cpu) give the Vector API loops' bits: both against a plain-Java model of the lane order
 * (DoubleExp's exponential, each lane's terms added in that lane, the lanes in order, then the tail), at their own widths,
 * including terms beyond the exponential's range (0 below -708, infinity above 709).
 */
class NativeExpSumTest {
    private static NativeExpSum nativeLoop() {
        Object loop = NativeExpSum.load();
        if (NativeFloatExpSumTest.cpuHasAvx2AndFma()) {
            assertTrue(loop instanceof ExpSum, "this CPU has AVX2 and FMA, but the native loop did not load: " + loop);
        }
        Assumptions.assumeTrue(loop instanceof ExpSum, "the native loop cannot run here: " + loop);
        return (NativeExpSum) loop;
    }

    /** Both widths where this CPU runs both (4 lanes with AVX2; 8 too with AVX-512F). */
    private static java.util.List<NativeExpSum> everyWidth() {
        nativeLoop();
        java.util.List<NativeExpSum> loops = new java.util.ArrayList<>(java.util.List.of(NativeExpSum.withLanes(4)));
        if (NativeExpSum.withLanes(8) != null) {
            loops.add(NativeExpSum.withLanes(8));
        }
        return loops;
    }

    @Test
    void theVectorLoopsFollowTheLaneOrderModelBitForBit() {
        assertSameBitsAsModel(new VectorExpSum(), VectorExpSum.lanes(), new Random(41));
    }

    @Test
    void theNativeLoopsFollowTheLaneOrderModelBitForBitAtEveryWidthThisCpuRuns() {
        for (NativeExpSum loop : everyWidth()) {
            assertSameBitsAsModel(loop, loop.lanes(), new Random(42));
        }
    }

    @Test
    void eightLanesAreOfferedExactlyWhereTheCpuHasAvx512() {
        boolean avx512 = NativeFloatExpSumTest.cpuHas("avx512f");
        assertEquals(avx512 ? 8 : 4, nativeLoop().lanes(), "the loaded loops run the widest lanes here");
        assertEquals(avx512, NativeExpSum.withLanes(8) != null);
        assertEquals(null, NativeExpSum.withLanes(2));
    }

    @Test
    void theExponentialsIntoFloatsAreDoubleExpsRounded() {
        for (NativeExpSum loop : everyWidth()) {
            assertExpIntoIsDoubleExpRounded(loop);
        }
    }

    private static void assertExpIntoIsDoubleExpRounded(ExpSum loop) {
        Random rng = new Random(43);
        double[] x = new double[3000];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 97 == 0 ? (i % 2 == 0 ? -800 : 750) : 30 * rng.nextGaussian();
        }
        float[] out = new float[x.length + 4], expected = new float[x.length + 4];
        loop.expInto(x, 5, 2990, 3.5, out, 2);
        for (int i = 0; i < 2990; i++) {
            expected[2 + i] = (float) DoubleExp.exp(x[5 + i] - 3.5);
        }
        assertArrayEquals(expected, out, loop.name());
        float[] vector = new float[out.length];
        new VectorExpSum().expInto(x, 5, 2990, 3.5, vector, 2);
        assertArrayEquals(vector, out);
    }

    @Test
    void indicesOutsideTheArraysAreRefusedBeforeTheNativeCall() {
        ExpSum loop = nativeLoop();
        double[] x = new double[100];
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sumExp(x, 50, 51, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> loop.expInto(x, 0, 100, 0, new float[99], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sum(1, x, 0, null, 0, 1, new float[10], 0, x, 20, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sum(1, x, 0, new double[5], 0, 0, null, 0, x, 20, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> loop.sum(1, x, 0, null, 0, 0, null, 0, new double[10], 20, 0));
    }

    private static void assertSameBitsAsModel(ExpSum loop, int lanes, Random rng) {
        int size = 6000;
        double[] a = new double[size], a2 = new double[size], beta = new double[size], x = new double[size];
        float[] b = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = 3 * rng.nextGaussian();
            a2[i] = rng.nextGaussian();
            beta[i] = rng.nextGaussian();
            b[i] = (float) rng.nextGaussian();
            x[i] = i % 211 == 0 ? -900 : i % 223 == 0 ? 720 : 40 * rng.nextGaussian();   // some terms beyond the range
        }
        for (int trial = 0; trial < 120; trial++) {
            int v = trial < 12 ? trial : rng.nextInt(5000), ao = rng.nextInt(500), bo = rng.nextInt(500);
            double alpha = rng.nextGaussian(), gamma = rng.nextGaussian(), delta = 2 * rng.nextGaussian(), shift = 3 * rng.nextGaussian();
            double[] second = trial % 2 == 0 ? a2 : null;
            float[] row = trial % 3 == 0 ? null : b;
            assertBits(model(lanes, alpha, a, gamma, second, ao, delta, row, bo, beta, v, shift),
                    loop.sum(alpha, a, gamma, second, ao, delta, row, bo, beta, v, shift), loop.name() + " sum, v = " + v);
            assertBits(modelSumExp(lanes, x, ao, v, shift), loop.sumExp(x, ao, v, shift), loop.name() + " sumExp, n = " + v);
        }
    }

    private static void assertBits(double expected, double actual, String what) {
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), what + ": " + expected + " against " + actual);
    }

    /** VectorExpSum.sum's order one lane at a time. */
    private static double model(int lanes, double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo,
                                double[] beta, int v, double shift) {
        double[] acc = new double[lanes];
        int i = 0;
        for (; i + lanes <= v; i += lanes) {
            for (int l = 0; l < lanes; l++) {
                acc[l] += DoubleExp.exp(logit(alpha, a, gamma, a2, ao, delta, b, bo, beta, i + l, shift));
            }
        }
        double s = 0;
        for (double lane : acc) {
            s += lane;
        }
        for (; i < v; i++) {
            s += DoubleExp.exp(logit(alpha, a, gamma, a2, ao, delta, b, bo, beta, i, shift));
        }
        return s;
    }

    private static double logit(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo, double[] beta,
                                int i, double shift) {
        double l = Math.fma(a[ao + i], alpha, beta[i] - shift);
        if (a2 != null) {
            l = Math.fma(a2[ao + i], gamma, l);
        }
        return b == null ? l : Math.fma(b[bo + i], delta, l);
    }

    /** VectorExpSum.sumExp's order one lane at a time. */
    private static double modelSumExp(int lanes, double[] x, int offset, int n, double shift) {
        double[] acc = new double[lanes];
        int i = 0;
        for (; i + lanes <= n; i += lanes) {
            for (int l = 0; l < lanes; l++) {
                acc[l] += DoubleExp.exp(x[offset + i + l] - shift);
            }
        }
        double s = 0;
        for (double lane : acc) {
            s += lane;
        }
        for (; i < n; i++) {
            s += DoubleExp.exp(x[offset + i] - shift);
        }
        return s;
    }
}

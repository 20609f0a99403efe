package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.model.Tensor;

/**
 * The native product of float32 weights: every value is the sequential chain of fused multiply-adds over k that
 * {@link #reference} computes in Java (so the blocking, the column tasks and the kernel's tiles cannot change a bit), and
 * B's float32 rounding and row maxima are Java's.
 */
class FloatWeightProductTest {
    /**
     * Shapes across the kernel's edges: rows around its 6, columns around its 8 and 16, its 192-column blocks and the
     * 1024-column tasks.
     */
    private static final int[][] SHAPES = {{1, 1, 1}, {1, 512, 48}, {5, 3, 7}, {6, 8, 8}, {7, 9, 9}, {4, 5, 15}, {6, 7, 16}, {11, 6, 33},
        {13, 64, 200}, {64, 33, 1031}, {12, 512, 2053}, {2, 2048, 17}};

    /** The kernel's panel widths this CPU runs: 8, and 16 with AVX-512F. */
    private static int[] panels() {
        return FloatWeightProduct.WIDEST_PANEL == 16 ? new int[] {8, 16} : new int[] {8};
    }

    @Test
    void sixteenColumnPanelsRunExactlyWhereTheCpuHasAvx512() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        assertEquals(NativeFloatExpSumTest.cpuHas("avx512f") ? 16 : 8, FloatWeightProduct.WIDEST_PANEL);
        assertThrows(IllegalArgumentException.class, () -> FloatWeightProduct.multiply(new double[4], 1, 4, direct(new float[8]), 0, 2,
                new double[2], 4));
    }

    @Test
    void theProductRunsOnACpuWithAvx2AndFma() {
        if (NativeFloatExpSumTest.cpuHasAvx2AndFma()) {
            assertNull(FloatWeightProduct.unavailable(), "this CPU has AVX2 and FMA, but the native product cannot run");
        }
    }

    /** out[r, c] = fma(x[r, k], w[k, c], ·) over k = 0, 1, ... from 0. */
    static double[] reference(double[] x, int rows, int inner, float[] w, int wIndex, int cols) {
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double acc = 0;
                for (int k = 0; k < inner; k++) {
                    acc = Math.fma(x[r * inner + k], (double) w[wIndex + k * cols + c], acc);
                }
                out[r * cols + c] = acc;
            }
        }
        return out;
    }

    private static FloatBuffer direct(float[] values) {
        FloatBuffer b = ByteBuffer.allocateDirect(4 * values.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(0, values);
        return b;
    }

    private static double[] gaussians(Random rng, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextGaussian() * scale;
        }
        return x;
    }

    private static float[] floats(Random rng, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(5) - 2));
        }
        return w;
    }

    @Test
    void everyValueIsTheSequentialChainOfFusedMultiplyAdds() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        Random rng = new Random(41);
        for (int[] s : SHAPES) {
            int rows = s[0], inner = s[1], cols = s[2], wIndex = rng.nextInt(9);
            double[] x = gaussians(rng, rows * inner, 3);
            float[] w = floats(rng, wIndex + inner * cols + rng.nextInt(5));
            for (int panel : panels()) {
                double[] out = new double[rows * cols];
                FloatWeightProduct.multiply(x, rows, inner, direct(w), wIndex, cols, out, panel);
                assertArrayEquals(reference(x, rows, inner, w, wIndex, cols), out, 0, rows + "x" + inner + "x" + cols + ", panels of " + panel);
            }
        }
    }

    @Test
    void bIsTheChainRoundedToFloatWithEachRowsLargestMagnitude() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        Random rng = new Random(42);
        for (int[] s : SHAPES) {
            int rows = s[0], inner = s[1], cols = s[2];
            double[] x = gaussians(rng, rows * inner, 1e30);   // some values past float's range: ±∞
            float[] w = floats(rng, inner * cols);
            double[] exact = reference(x, rows, inner, w, 0, cols);
            float[] expected = new float[rows * cols];
            double[] expectedMax = new double[rows];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (float) exact[i];
                expectedMax[i / cols] = Math.max(expectedMax[i / cols], Math.abs(expected[i]));
            }
            for (int panel : panels()) {
                for (boolean heap : new boolean[] {false, true}) {
                    FloatBuffer out = heap ? FloatBuffer.wrap(new float[rows * cols]) : direct(new float[rows * cols]);
                    double[] rowAbsMax = gaussians(rng, rows, 1);   // overwritten
                    FloatWeightProduct.multiplyNarrowed(x, rows, inner, direct(w), cols, out, rowAbsMax, panel);
                    float[] got = new float[rows * cols];
                    out.get(0, got);
                    String shape = rows + "x" + inner + "x" + cols + ", panels of " + panel + (heap ? ", into a heap buffer" : "");
                    assertArrayEquals(expected, got, 0, shape);
                    assertArrayEquals(expectedMax, rowAbsMax, 0, shape);
                }
            }
        }
    }

    @Test
    void aNanInARowMakesItsLargestMagnitudeNan() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        Random rng = new Random(43);
        int rows = 9, inner = 4, cols = 1030;
        double[] x = gaussians(rng, rows * inner, 1);
        float[] w = floats(rng, inner * cols);
        w[2 * cols + 1029] = Float.NaN;   // every row's last column, in the last task's partial panel
        w[1 * cols + 500] = Float.POSITIVE_INFINITY;
        x[3 * inner + 1] = 0;              // row 3: 0 · ∞ is NaN in column 500
        for (int panel : panels()) {
            double[] rowAbsMax = new double[rows];
            FloatBuffer out = direct(new float[rows * cols]);
            FloatWeightProduct.multiplyNarrowed(x, rows, inner, direct(w), cols, out, rowAbsMax, panel);
            for (int r = 0; r < rows; r++) {
                assertEquals(Double.NaN, rowAbsMax[r], "row " + r + ", panels of " + panel);
            }
            // the native product's infinities where the other rows meet ∞
            assertEquals(Float.POSITIVE_INFINITY, Math.abs(out.get(0 * cols + 500)));
            assertEquals(Float.NaN, out.get(3 * cols + 500));
        }
    }

    @Test
    void theBackendsProductsWithFloatWeightsAreTheNativeProductsWhereItRuns() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        assumeTrue(MatMul.current() instanceof OpenBlasMatrixProduct, "OpenBLAS is not in use here");
        Random rng = new Random(44);
        int rows = 20, inner = 64, cols = 3000;
        double[] x = gaussians(rng, rows * inner, 1);
        float[] w = floats(rng, inner * cols);
        float[] bias = floats(rng, cols);
        // a heap tensor (copied once into a direct buffer) with a bias
        double[] got = MatMul.multiply(x, rows, inner, Tensor.of("w", new int[] {inner, cols}, w), 0, cols,
                Tensor.of("b", new int[] {cols}, bias), 0);
        double[] expected = reference(x, rows, inner, w, 0, cols);
        for (int i = 0; i < expected.length; i++) {
            expected[i] += bias[i % cols];
        }
        assertArrayEquals(expected, got, 0);
        assertEquals(FloatWeightProduct.NAME, MatMul.current().narrowedProductName());
    }

    @Test
    void badArgumentsAreRefusedBeforeTheNativeCode() {
        assumeTrue(FloatWeightProduct.unavailable() == null, "the native product cannot run here");
        double[] x = new double[12];
        FloatBuffer w = direct(new float[4 * 5]);
        assertThrows(IndexOutOfBoundsException.class, () -> FloatWeightProduct.multiply(x, 3, 4, w, 1, 5, new double[15]));
        assertThrows(IndexOutOfBoundsException.class, () -> FloatWeightProduct.multiply(x, 4, 4, w, 0, 5, new double[20]));
        assertThrows(IndexOutOfBoundsException.class, () -> FloatWeightProduct.multiply(x, 3, 4, w, 0, 5, new double[14]));
        assertThrows(IllegalArgumentException.class,
                () -> FloatWeightProduct.multiply(x, 3, 4, FloatBuffer.wrap(new float[20]), 0, 5, new double[15]));
        assertThrows(java.nio.ReadOnlyBufferException.class, () -> FloatWeightProduct.multiplyNarrowed(x, 3, 4, w, 5,
                direct(new float[15]).asReadOnlyBuffer(), new double[3]));
    }
}

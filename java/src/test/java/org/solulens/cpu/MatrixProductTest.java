package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.solulens.model.Tensor;

/** OpenBLAS's products against the pure-Java loops, which the float64 reference has always used. */
class MatrixProductTest {
    /**
     * Both accumulate in double, in different orders: the difference is rounding, a few ulps of the sum of
     * |x·w| terms (at most 2048 of them here), far below 1e-12 of it.
     */
    private static final double RELATIVE_TOLERANCE = 1e-12;

    private static final JavaMatrixProduct JAVA = new JavaMatrixProduct();
    private static final OpenBlasMatrixProduct BLAS = OpenBlasMatrixProduct.load();

    @ParameterizedTest(name = "{0} x {1} x {2}, weights at offset {3}")
    @CsvSource({"1,512,48", "7,33,129", "64,128,4096", "300,96,77", "2,2048,5", "1000,40,40"})
    void floatWeightsWithOffsetAndBiasMatchTheJavaLoops(int rows, int inner, int cols) {
        Random rng = new Random(rows * 31L + inner * 7L + cols);
        int offset = 5 + rng.nextInt(50), biasOffset = 3;
        double[] x = gaussian(rng, rows * inner);
        Tensor w = Tensor.of("w", new int[] {offset + inner * cols}, floats(rng, offset + inner * cols));
        Tensor bias = Tensor.of("b", new int[] {biasOffset + cols}, floats(rng, biasOffset + cols));
        double[] expected = JAVA.multiply(x, rows, inner, w, offset, cols, bias, biasOffset);
        double[] actual = BLAS.multiply(x, rows, inner, w, offset, cols, bias, biasOffset);
        assertClose(expected, actual, absSum(x, rows, inner) * 4);
        double[] noBias = BLAS.multiply(x, rows, inner, w, offset, cols, null, 0);
        assertEquals(actual[cols - 1] - bias.get(biasOffset + cols - 1), noBias[cols - 1], 1e-12 * absSum(x, rows, inner) * 4);
    }

    @Test
    void productLargerThanOneChunkOfRowsMatches() {
        // 8.4e6 doubles per chunk: 200 columns of 50,000 rows spans several dgemm calls
        Random rng = new Random(3);
        int rows = 50_000, inner = 16, cols = 200;
        double[] x = gaussian(rng, rows * inner);
        Tensor w = Tensor.of("w", new int[] {inner * cols}, floats(rng, inner * cols));
        assertClose(JAVA.multiply(x, rows, inner, w, 0, cols, null, 0), BLAS.multiply(x, rows, inner, w, 0, cols, null, 0), absSum(x, rows, inner) * 4);
    }

    @Test
    void rowBlocksHandedToASinkAreTheWholeProduct() {
        // 40 rows of 300,000 columns: 1.2e7 doubles, so OpenBLAS hands them over in two blocks of 27 and 13
        Random rng = new Random(5);
        int rows = 40, inner = 8, cols = 300_000;
        double[] x = gaussian(rng, rows * inner);
        Tensor w = Tensor.of("w", new int[] {inner * cols}, floats(rng, inner * cols));
        double[] expected = JAVA.multiply(x, rows, inner, w, 0, cols, null, 0);
        for (MatrixProduct product : new MatrixProduct[] {JAVA, BLAS}) {
            double[] streamed = new double[rows * cols];
            int[] rowsSeen = new int[1];
            product.multiply(x, rows, inner, w, cols, (first, count, values) -> {
                assertEquals(rowsSeen[0], first, product.name() + ": blocks arrive in order");
                values.get(0, streamed, first * cols, count * cols);
                rowsSeen[0] += count;
            });
            assertEquals(rows, rowsSeen[0]);
            assertClose(expected, streamed, absSum(x, rows, inner) * 4);
        }
    }

    @Test
    void rowsPerDgemmCallAreAMultipleOf64WhereMoreThanOneCallIsNeeded() {
        // B's product for solu-1l: 8.4e6 doubles hold 173 rows of 48,262; calls of 128 split evenly between threads
        assertEquals(128, OpenBlasMatrixProduct.chunkRows(2048, 48262));
        assertEquals(64, OpenBlasMatrixProduct.chunkRows(64, 48262), "rows that fit are one call");
        assertEquals(173, OpenBlasMatrixProduct.chunkRows(173, 48262));
        assertEquals(27, OpenBlasMatrixProduct.chunkRows(40, 300_000), "fewer than 64 rows fit: as many as fit");
        assertEquals(83_840, OpenBlasMatrixProduct.chunkRows(1_000_000, 100));
        assertEquals(1, OpenBlasMatrixProduct.chunkRows(5, 10_000_000), "a row wider than the bound: one at a time");
    }

    @ParameterizedTest(name = "{0} x {1} x {2}")
    @CsvSource({"3,5,7", "64,512,300", "17,129,1000"})
    void doubleProductsMatchTheJavaLoops(int rows, int inner, int cols) {
        Random rng = new Random(rows + 1000L * cols);
        double[] x = gaussian(rng, rows * inner), w = gaussian(rng, inner * cols), b = gaussian(rng, cols * inner);
        double scale = absSum(x, rows, inner) * 4;
        assertClose(JAVA.multiply(x, rows, inner, w, cols), BLAS.multiply(x, rows, inner, w, cols), scale);
        assertClose(JAVA.multiplyTransposed(x, rows, b, cols, inner), BLAS.multiplyTransposed(x, rows, b, cols, inner), scale);
    }

    @Test
    void javaLoopsComputeTheDefinition() {
        Random rng = new Random(9);
        int rows = 5, inner = 7, cols = 3;
        double[] x = gaussian(rng, rows * inner), w = gaussian(rng, inner * cols);
        double[] out = JAVA.multiply(x, rows, inner, w, cols);
        double[] outT = JAVA.multiplyTransposed(x, rows, transpose(w, inner, cols), cols, inner);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int k = 0; k < inner; k++) {
                    s += x[r * inner + k] * w[k * cols + c];
                }
                assertEquals(s, out[r * cols + c], 1e-12);
                assertEquals(s, outT[r * cols + c], 1e-12);
            }
        }
    }

    @Test
    void emptyProductsAreEmptyOrZero() {
        Tensor w = Tensor.of("w", new int[] {6}, new float[] {1, 2, 3, 4, 5, 6});
        assertEquals(0, BLAS.multiply(new double[0], 0, 2, w, 0, 3, null, 0).length);
        assertEquals(0, BLAS.multiplyTransposed(new double[0], 0, new double[6], 3, 2).length);
    }

    @Test
    void openBlasIsWhatTheCpuBackendUsesHereWithItsThreadCount() {
        String name = MatMul.current().name();
        assertTrue(name.startsWith("OpenBLAS"), name);
        if (System.getenv("OPENBLAS_NUM_THREADS") == null) {
            int expected = Math.min(Runtime.getRuntime().availableProcessors(),
                    java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1);
            assertTrue(name.contains("(" + expected + " threads)"), name);
        }
    }

    private static void assertClose(double[] expected, double[] actual, double scale) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > RELATIVE_TOLERANCE * scale) {
                throw new AssertionError("element " + i + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    private static double absSum(double[] x, int rows, int inner) {
        double m = 0;
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int k = 0; k < inner; k++) {
                s += Math.abs(x[r * inner + k]);
            }
            m = Math.max(m, s);
        }
        return m;
    }

    private static double[] transpose(double[] w, int rows, int cols) {
        double[] t = new double[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = w[r * cols + c];
            }
        }
        return t;
    }

    private static double[] gaussian(Random rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextGaussian();
        }
        return x;
    }

    private static float[] floats(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextGaussian() * 0.5);
        }
        return x;
    }
}

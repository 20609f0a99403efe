package org.solulens.cpu;

import java.util.stream.IntStream;
import org.solulens.model.Tensor;

/**
 * {@code out[r, c] = sum_k x[r, k] * w[k, c] (+ bias[c])} with a float32 weight matrix, accumulated in double.
 * Large products are split over (row, column block) tasks run on the common fork-join pool, so every core works.
 */
public final class MatMul {
    /** Below this many multiply-adds a product runs on the calling thread (forking costs more than it saves). */
    private static final long PARALLEL_THRESHOLD = 1L << 18;
    /** Columns per task: a block of the weight row stays in cache while the row of x streams past. */
    private static final int COLUMN_BLOCK = 2048;

    private MatMul() {}

    /**
     * @param w a [inner, cols] row-major matrix starting at flat index {@code wOffset} of {@code weight}
     * @param bias {@code cols} values starting at {@code biasOffset}, or null
     */
    public static double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols,
                                    Tensor bias, int biasOffset) {
        double[] out = new double[rows * cols];
        int blocks = (cols + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        IntStream tasks = IntStream.range(0, rows * blocks);
        if ((long) rows * inner * cols >= PARALLEL_THRESHOLD) {
            tasks = tasks.parallel();
        }
        tasks.forEach(task -> {
            int r = task / blocks;
            int c0 = (task % blocks) * COLUMN_BLOCK;
            int c1 = Math.min(cols, c0 + COLUMN_BLOCK);
            int o = r * cols;
            for (int k = 0; k < inner; k++) {
                double xv = x[r * inner + k];
                int wr = wOffset + k * cols;
                for (int c = c0; c < c1; c++) {
                    out[o + c] += xv * w.get(wr + c);
                }
            }
            if (bias != null) {
                for (int c = c0; c < c1; c++) {
                    out[o + c] += bias.get(biasOffset + c);
                }
            }
        });
        return out;
    }
}

package org.solulens.cpu;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.solulens.model.Tensor;

/**
 * {@code out[r, c] = sum_k x[r, k] * w[k, c] (+ bias[c])} with a float32 weight matrix, accumulated in double.
 * The product is cut into (row chunk, column block) tiles run on the common fork-join pool, so every core
 * works; inside a tile each weight-row segment is copied once into a small float array and reused by
 * every row of the chunk (the weights may be a memory-mapped file: read once per chunk, not once per row).
 */
public final class MatMul {
    /** Below this many multiply-adds a product runs on the calling thread (forking costs more than it saves). */
    private static final long PARALLEL_THRESHOLD = 1L << 18;
    private static final int COLUMN_BLOCK = 256;
    private static final int ROW_CHUNK = 64;

    private MatMul() {}

    /**
     * @param w a [inner, cols] row-major matrix starting at flat index {@code wOffset} of {@code weight}
     * @param bias {@code cols} values starting at {@code biasOffset}, or null
     */
    public static double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols,
                                    Tensor bias, int biasOffset) {
        double[] out = new double[rows * cols];
        int colBlocks = (cols + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        int rowChunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
        FloatBuffer weights = w.buffer();
        IntStream tiles = IntStream.range(0, rowChunks * colBlocks);
        if ((long) rows * inner * cols >= PARALLEL_THRESHOLD) {
            tiles = tiles.parallel();
        }
        tiles.forEach(tile -> {
            int r0 = (tile / colBlocks) * ROW_CHUNK, r1 = Math.min(rows, r0 + ROW_CHUNK);
            int c0 = (tile % colBlocks) * COLUMN_BLOCK, c1 = Math.min(cols, c0 + COLUMN_BLOCK);
            int width = c1 - c0;
            float[] segment = new float[width];
            for (int k = 0; k < inner; k++) {
                weights.get(wOffset + k * cols + c0, segment, 0, width);
                for (int r = r0; r < r1; r++) {
                    double xv = x[r * inner + k];
                    int o = r * cols + c0;
                    for (int c = 0; c < width; c++) {
                        out[o + c] += xv * segment[c];
                    }
                }
            }
            if (bias != null) {
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        out[r * cols + c] += bias.get(biasOffset + c);
                    }
                }
            }
        });
        return out;
    }
}

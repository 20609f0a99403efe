package org.solulens.cpu;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.solulens.model.Tensor;

/**
 * The matrix products as plain Java loops: the fallback where OpenBLAS cannot load (another OS or
 * architecture) and the oracle its tests compare against. Products are cut into (row chunk, column block)
 * tiles run on the common fork-join pool; inside a tile each weight-row segment is copied once into a small
 * array and reused by every row of the chunk (the weights may be a memory-mapped file: read once per chunk).
 */
public final class JavaMatrixProduct implements MatrixProduct {
    /** Below this many multiply-adds a product runs on the calling thread (forking costs more than it saves). */
    private static final long PARALLEL_THRESHOLD = 1L << 18;
    private static final int COLUMN_BLOCK = 256;
    private static final int ROW_CHUNK = 64;

    @Override
    public String name() {
        return "pure Java";
    }

    @Override
    public double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols, Tensor bias, int biasOffset) {
        FloatBuffer weights = w.buffer();
        double[] out = tiled(rows, inner, cols, (k, c0, segment, width, scratch) -> {
            weights.get(wOffset + k * cols + c0, scratch, 0, width);
            for (int c = 0; c < width; c++) {
                segment[c] = scratch[c];
            }
        }, x);
        return MatrixProduct.addBias(out, rows, cols, bias, biasOffset);
    }

    @Override
    public void multiply(double[] x, int rows, int inner, Tensor w, int cols, RowBlockSink sink) {
        for (int r0 = 0; r0 < rows; r0 += ROW_CHUNK) {
            int n = Math.min(ROW_CHUNK, rows - r0);
            double[] part = multiply(java.util.Arrays.copyOfRange(x, r0 * inner, (r0 + n) * inner), n, inner, w, 0, cols, null, 0);
            sink.accept(r0, n, java.nio.DoubleBuffer.wrap(part));
        }
    }

    @Override
    public double[] multiply(double[] x, int rows, int inner, double[] w, int cols) {
        return tiled(rows, inner, cols, (k, c0, segment, width, scratch) -> System.arraycopy(w, k * cols + c0, segment, 0, width), x);
    }

    @Override
    public double[] multiplyTransposed(double[] a, int rows, double[] b, int cols, int inner) {
        double[] out = new double[rows * cols];
        IntStream range = IntStream.range(0, rows);
        if ((long) rows * cols * inner >= PARALLEL_THRESHOLD) {
            range = range.parallel();
        }
        range.forEach(r -> {
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int k = 0; k < inner; k++) {
                    s += a[r * inner + k] * b[c * inner + k];
                }
                out[r * cols + c] = s;
            }
        });
        return out;
    }

    /** Copies {@code width} values of weight row k from column c0 into {@code segment} (scratch: a tile's float array). */
    @FunctionalInterface
    private interface RowSegment {
        void read(int k, int c0, double[] segment, int width, float[] scratch);
    }

    private static double[] tiled(int rows, int inner, int cols, RowSegment weights, double[] x) {
        double[] out = new double[rows * cols];
        int colBlocks = (cols + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        int rowChunks = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
        IntStream tiles = IntStream.range(0, rowChunks * colBlocks);
        if ((long) rows * inner * cols >= PARALLEL_THRESHOLD) {
            tiles = tiles.parallel();
        }
        tiles.forEach(tile -> {
            int r0 = (tile / colBlocks) * ROW_CHUNK, r1 = Math.min(rows, r0 + ROW_CHUNK);
            int c0 = (tile % colBlocks) * COLUMN_BLOCK, width = Math.min(cols, c0 + COLUMN_BLOCK) - c0;
            double[] segment = new double[width];
            float[] scratch = new float[width];
            for (int k = 0; k < inner; k++) {
                weights.read(k, c0, segment, width, scratch);
                for (int r = r0; r < r1; r++) {
                    double xv = x[r * inner + k];
                    int o = r * cols + c0;
                    for (int c = 0; c < width; c++) {
                        out[o + c] += xv * segment[c];
                    }
                }
            }
        });
        return out;
    }
}

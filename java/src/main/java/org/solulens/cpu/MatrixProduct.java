package org.solulens.cpu;

import org.solulens.model.Tensor;

/**
 * The CPU's matrix products, every one accumulated in double (the CPU backend is the float64 reference the
 * other backends are checked against). {@link MatMul} picks the implementation: OpenBLAS where its native
 * library loads, else the pure-Java loops, which also serve as the tests' oracle.
 */
public interface MatrixProduct {
    /**
     * {@code out[r, c] = sum_k x[r, k] * w[k, c] (+ bias[c])}.
     *
     * @param x [rows, inner], row-major
     * @param w a [inner, cols] row-major float32 matrix starting at flat index {@code wOffset} of the tensor
     * @param bias {@code cols} values starting at {@code biasOffset}, or null
     * @return [rows, cols], row-major
     */
    double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols, Tensor bias, int biasOffset);

    /**
     * As {@link #multiply(double[], int, int, Tensor, int, int, Tensor, int)} without offset or bias, but the result
     * is handed to {@code sink} a block of rows at a time instead of returned whole: for products too large to hold
     * in double (the sweep's B, d_mlp x d_vocab, is kept in float32).
     */
    void multiply(double[] x, int rows, int inner, Tensor w, int cols, RowBlockSink sink);

    /** Receives consecutive blocks of a product's rows. */
    @FunctionalInterface
    interface RowBlockSink {
        /** Rows {@code first .. first + count} of the product, row-major, at {@code values}' positions 0 .. count·cols. */
        void accept(int first, int count, java.nio.DoubleBuffer values);
    }

    /**
     * The sweep's B: {@code x · w} rounded to float32 into {@code out} from its index 0, row-major, and each row's largest
     * |value| into {@code rowAbsMax} (NaN when one is NaN). By default the double rows of
     * {@link #multiply(double[], int, int, Tensor, int, RowBlockSink)}, rounded.
     */
    default void multiplyNarrowed(double[] x, int rows, int inner, Tensor w, int cols, java.nio.FloatBuffer out, double[] rowAbsMax) {
        multiply(x, rows, inner, w, cols, (first, count, values) ->
            java.util.stream.IntStream.range(0, count).parallel().forEach(r ->
                rowAbsMax[first + r] = NativeConversions.narrow(values, r * cols, out, (first + r) * cols, cols)));
    }

    /** What computes {@link #multiplyNarrowed}: part of B's cache key, as implementations may round a last bit differently. */
    default String narrowedProductName() {
        return name();
    }

    /** {@code out[r, c] = sum_k x[r, k] * w[k, c]} with x [rows, inner] and w [inner, cols], both double. */
    double[] multiply(double[] x, int rows, int inner, double[] w, int cols);

    /** {@code out[r, c] = a[r] · b[c]}: the rows of a [rows, inner] against the rows of b [cols, inner]. */
    double[] multiplyTransposed(double[] a, int rows, double[] b, int cols, int inner);

    /** What computes the products, for logs and benchmark labels. */
    String name();

    /**
     * Adds {@code bias[biasOffset + c]} to every row's column c (nothing when bias is null); returns out. The bias is
     * read once, in bulk: a fresh JVM ran the logits' 3.1M {@code Tensor.get} calls (64 tokens of solu-1l) interpreted,
     * ~0.1 s of the first forward pass (benchmarks/NOTES.md).
     */
    static double[] addBias(double[] out, int rows, int cols, Tensor bias, int biasOffset) {
        if (bias != null) {
            float[] b = new float[cols];
            bias.buffer().get(biasOffset, b, 0, cols);
            for (int r = 0; r < rows; r++) {
                addRow(out, r * cols, b);
            }
        }
        return out;
    }

    /** {@code out[at + c] += b[c]}: a method of its own, called once a row, so that a fresh JVM compiles it early. */
    private static void addRow(double[] out, int at, float[] b) {
        for (int c = 0; c < b.length; c++) {
            out[at + c] += b[c];
        }
    }
}

package org.solulens.cpu;

import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Products of double rows with a float32 weight matrix, {@code out = x · W}, accumulated in double, in C++
 * (native/cpu/float_weight_product.h) where the CPU library loads and the CPU has AVX2 and FMA (a 6 x 8 kernel; 6 x 16
 * with AVX-512F, twice the rate on cores with 512-bit FMA units). W is widened block by
 * block as the kernel packs it, so no double copy of it is made (W_U's was 198 MB of fresh memory for solu-1l), and B's
 * float32 rows and their largest magnitudes come out of the kernel instead of a second pass over double rows.
 * Each {@code out[r, c]} is the chain {@code acc = fma(x[r, k], (double) W[k, c], acc)} over k = 0, 1, ... from 0,
 * whatever the blocking or the threads: the tests check its bits against that loop in Java.
 */
final class FloatWeightProduct {
    /** Part of B's cache key: other products may round B's last float32 bit differently. */
    static final String NAME = "native double product of float32 weights (sequential FMA chains, v1)";
    /** Columns per task: a multiple of the kernel's 8 and 16, and few enough tasks that each packs a useful share of W. */
    static final int TASK_COLUMNS = 1024;
    private static final String UNAVAILABLE = load();
    /** The kernel's columns here: 16 where the CPU has AVX-512F, else 8 (the same bits either way). */
    static final int WIDEST_PANEL = UNAVAILABLE == null ? widestPanel0() : 8;

    private FloatWeightProduct() {}

    private static String load() {
        String error = CpuNativeLibrary.loadError();
        return error != null ? error : init0();
    }

    /** Null when the native product runs here, else why not. */
    static String unavailable() {
        return UNAVAILABLE;
    }

    /**
     * {@code out[r * cols + c] = Σ_k x[r * inner + k] · w[wIndex + k * cols + c]} for r < rows, c < cols.
     *
     * @param w a direct float buffer in native order
     */
    static void multiply(double[] x, int rows, int inner, FloatBuffer w, int wIndex, int cols, double[] out) {
        multiply(x, rows, inner, w, wIndex, cols, out, WIDEST_PANEL);
    }

    /** {@link #multiply} with the kernel's panels of {@code panel} columns (8, or 16 with AVX-512F), for tests. */
    static void multiply(double[] x, int rows, int inner, FloatBuffer w, int wIndex, int cols, double[] out, int panel) {
        Objects.checkFromIndexSize(0, Math.multiplyExact(rows, cols), out.length);
        run(x, rows, inner, w, wIndex, cols, out, true, 0, false, null, panel);
    }

    /**
     * The product rounded to float32 into {@code out} from its index 0, row-major; {@code rowAbsMax[r]} becomes row r's
     * largest |value| (NaN when one is NaN).
     */
    static void multiplyNarrowed(double[] x, int rows, int inner, FloatBuffer w, int cols, FloatBuffer out, double[] rowAbsMax) {
        multiplyNarrowed(x, rows, inner, w, cols, out, rowAbsMax, WIDEST_PANEL);
    }

    /** {@link #multiplyNarrowed} with the kernel's panels of {@code panel} columns, for tests. */
    static void multiplyNarrowed(double[] x, int rows, int inner, FloatBuffer w, int cols, FloatBuffer out, double[] rowAbsMax, int panel) {
        if (out.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        Objects.checkFromIndexSize(0, Math.multiplyExact(rows, cols), out.capacity());
        Objects.checkFromIndexSize(0, rows, rowAbsMax.length);
        boolean heap = out.hasArray();
        if (!heap && (!out.isDirect() || out.order() != ByteOrder.nativeOrder())) {
            throw new IllegalArgumentException("B's buffer must be a heap buffer or a direct one in native order");
        }
        java.util.Arrays.fill(rowAbsMax, 0, rows, 0);
        run(x, rows, inner, w, 0, cols, heap ? out.array() : out, heap, heap ? out.arrayOffset() : 0, true, rowAbsMax, panel);
    }

    private static void run(double[] x, int rows, int inner, FloatBuffer w, int wIndex, int cols, Object out, boolean outArray,
                            int outOffset, boolean single, double[] rowAbsMax, int panel) {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException("the native product cannot run here: " + UNAVAILABLE);
        }
        if (panel != 8 && panel != WIDEST_PANEL) {
            throw new IllegalArgumentException("the kernel's panels are 8 columns" + (WIDEST_PANEL == 16 ? " or 16" : "") + " here, not " + panel);
        }
        if (!w.isDirect() || w.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("the weights must be a direct float buffer in native order");
        }
        if (rows < 0 || inner < 1 || cols < 0) {
            throw new IllegalArgumentException("a product of " + rows + " x " + inner + " by " + inner + " x " + cols);
        }
        Objects.checkFromIndexSize(0, Math.multiplyExact(rows, inner), x.length);
        Objects.checkFromIndexSize(wIndex, Math.multiplyExact(inner, cols), w.capacity());
        if (rows == 0 || cols == 0) {
            return;
        }
        long packed = pack0(x, rows, inner);
        if (packed == 0) {
            throw new OutOfMemoryError("no native memory for a " + rows + " x " + inner + " double matrix");
        }
        try {
            int tasks = (cols + TASK_COLUMNS - 1) / TASK_COLUMNS;
            float[][] maxima = rowAbsMax == null ? null : new float[tasks][rows];
            IntStream range = IntStream.range(0, tasks);
            (tasks > 1 ? range.parallel() : range).forEach(t -> {
                int c0 = t * TASK_COLUMNS, n = Math.min(TASK_COLUMNS, cols - c0);
                int status = product0(packed, rows, inner, w, wIndex + c0, cols, n, out, outArray, single, outOffset + c0, cols,
                        maxima == null ? null : maxima[t], panel);
                if (status == 2) {
                    throw new OutOfMemoryError("no native memory for the product's packed columns");
                } else if (status != 0) {
                    throw new IllegalStateException("the native product could not reach its arrays");
                }
            });
            if (maxima != null) {
                for (float[] m : maxima) {
                    for (int r = 0; r < rows; r++) {
                        rowAbsMax[r] = Double.isNaN(rowAbsMax[r]) || Float.isNaN(m[r]) ? Double.NaN : Math.max(rowAbsMax[r], m[r]);
                    }
                }
            }
        } finally {
            free0(packed);
            Reference.reachabilityFence(w);
            Reference.reachabilityFence(out);
        }
    }

    private static native String init0();

    /** 16 where the CPU has AVX-512F, else 8; after init0. */
    private static native int widestPanel0();

    private static native long pack0(double[] x, int rows, int inner);

    private static native void free0(long packed);

    /** 0 when done, 1 when an array or buffer could not be reached, 2 when there was no memory for the packed columns. */
    private static native int product0(long packed, int rows, int inner, Buffer w, long wIndex, long wStride, int cols, Object out,
                                           boolean outArray, boolean single, long outIndex, long outStride, float[] rowAbsMax,
                                           int panel);
}

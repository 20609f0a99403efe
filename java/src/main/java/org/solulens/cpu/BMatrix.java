package org.solulens.cpu;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * The exact sweep's model constant B ({@code rows x cols} float32, row-major; d_mlp x d_vocab, 395 MB for solu-1l) and
 * its rows' largest magnitudes. Held in a heap array, or read in place from a file of the constant cache through a
 * memory map: no copy, because 395 MB of fresh heap pages cost 0.1–0.9 s on the VMs measured (benchmarks/NOTES.md).
 * The native tile loop reads a mapped B directly; the Java loops get a heap copy, made once, on first need.
 */
public final class BMatrix {
    private final int rows, cols;
    private final double[] rowAbsMax;
    /** The values in the file's mapping (direct, native byte order), or null. */
    private final FloatBuffer mapped;
    /** The values on the heap: given, or copied from the mapping on first need. */
    private float[] heap;

    private BMatrix(int rows, int cols, double[] rowAbsMax, FloatBuffer mapped, float[] heap) {
        if (rows < 0 || cols < 0 || rowAbsMax.length != rows) {
            throw new IllegalArgumentException("B of " + rows + " x " + cols + " with " + rowAbsMax.length + " row maxima");
        }
        long size = (long) rows * cols;
        if ((mapped != null ? mapped.capacity() : heap.length) != size) {
            throw new IllegalArgumentException("B of " + rows + " x " + cols + " needs " + size + " values, got "
                    + (mapped != null ? mapped.capacity() : heap.length));
        }
        this.rows = rows;
        this.cols = cols;
        this.rowAbsMax = rowAbsMax;
        this.mapped = mapped;
        this.heap = heap;
    }

    /** What fills a new B: its values into {@code b} (rows x cols, row-major, from index 0) and each row's max |value|. */
    @FunctionalInterface
    interface Fill {
        void into(FloatBuffer b, double[] rowAbsMax);
    }

    /** A new B on the heap, filled by {@code fill}. */
    static BMatrix filledInMemory(int rows, int cols, Fill fill) {
        float[] values = new float[Math.multiplyExact(rows, cols)];
        double[] rowAbsMax = new double[rows];
        fill.into(FloatBuffer.wrap(values), rowAbsMax);
        return inMemory(rows, cols, values, rowAbsMax);
    }

    /** B held in {@code values} (not copied). */
    static BMatrix inMemory(int rows, int cols, float[] values, double[] rowAbsMax) {
        return new BMatrix(rows, cols, rowAbsMax, null, Objects.requireNonNull(values));
    }

    /** B read in place from {@code values}: a direct buffer in the platform's byte order (a file's mapping). */
    static BMatrix mapped(int rows, int cols, FloatBuffer values, double[] rowAbsMax) {
        if (!values.isDirect() || values.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("a mapped B must be a direct buffer in the platform's byte order");
        }
        return new BMatrix(rows, cols, rowAbsMax, values.duplicate().clear(), null);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** B[row, col]. */
    public float get(int row, int col) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(col, cols);
        int i = row * cols + col;
        float[] h = heap;
        return h != null ? h[i] : mapped.get(i);
    }

    /** max_v |B[row, v]|, for the logsumexp shift bound. */
    double rowAbsMax(int row) {
        return rowAbsMax[row];
    }

    double[] rowAbsMax() {
        return rowAbsMax;
    }

    /** The mapped values (for the native loop, which reads them in place), or null when B is on the heap only. */
    FloatBuffer mapped() {
        return mapped;
    }

    /** The values as a heap array: B's own when it was built in memory, else a copy of the mapping made once. */
    synchronized float[] array() {
        if (heap == null) {
            float[] copy = new float[mapped.capacity()];
            mapped.duplicate().clear().get(copy);
            heap = copy;
        }
        return heap;
    }

    /** Copies row {@code row} into {@code out[0 .. cols)}. */
    void copyRow(int row, float[] out) {
        Objects.checkIndex(row, rows);
        float[] h = heap;
        if (h != null) {
            System.arraycopy(h, row * cols, out, 0, cols);
        } else {
            mapped.get(row * cols, out, 0, cols);
        }
    }
}

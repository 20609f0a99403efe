package org.solulens.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.solulens.model.Tensor;

/**
 * Where the CPU's matrix products go: OpenBLAS when its native library loads here, else the pure-Java loops,
 * said once in the log at warning level with the cause. {@code -Dsolulens.blas=java} forces the Java loops (for comparisons and benchmarks).
 */
public final class MatMul {
    private static final Logger log = LoggerFactory.getLogger(MatMul.class);
    private static volatile MatrixProduct current;
    private static final java.util.concurrent.atomic.AtomicBoolean PRELOAD_STARTED = new java.util.concurrent.atomic.AtomicBoolean();

    private MatMul() {}

    /** The implementation in use, chosen on first call. */
    public static MatrixProduct current() {
        MatrixProduct m = current;
        if (m == null) {
            synchronized (MatMul.class) {
                if (current == null) {
                    current = choose();
                }
                m = current;
            }
        }
        return m;
    }

    /**
     * Starts {@link #current()}'s choice on a daemon thread and returns: loading OpenBLAS and the CPU loops' library
     * takes ~0.2 s of a fresh JVM, which a command can spend reading its model instead (a cold 64-token sweep reached
     * its first product that much sooner; benchmarks/NOTES.md). A later {@code current()} waits for the choice.
     */
    public static void loadInBackground() {
        if (current == null && PRELOAD_STARTED.compareAndSet(false, true)) {
            Thread t = new Thread(() -> {
                current();
                CpuNativeLibrary.loadError();
            }, "solulens-native-preload");
            t.setDaemon(true);
            t.start();
        }
    }

    private static MatrixProduct choose() {
        if ("java".equalsIgnoreCase(System.getProperty("solulens.blas", ""))) {
            log.info("matrix products: pure Java (-Dsolulens.blas=java)");
            return new JavaMatrixProduct();
        }
        try {
            MatrixProduct blas = OpenBlasMatrixProduct.load();
            log.debug("matrix products: {}", blas.name());
            return blas;
        } catch (LinkageError | RuntimeException e) {
            // a warning with the cause: a quiet fallback once hid a broken first extraction that slowed every sweep
            log.warn("matrix products: pure Java, which makes the CPU backend's sweeps about 6x slower than with OpenBLAS"
                    + " (OpenBLAS cannot load on {} {}: {})", System.getProperty("os.name"), System.getProperty("os.arch"), causes(e));
            return new JavaMatrixProduct();
        }
    }

    /** The failure and its causes on one line ("ExceptionInInitializerError" alone says nothing). */
    private static String causes(Throwable e) {
        StringBuilder s = new StringBuilder(e.toString());
        int depth = 0;
        for (Throwable c = e.getCause(); c != null && depth++ < 5; c = c.getCause()) {
            s.append(", caused by ").append(c);
        }
        return s.toString();
    }

    /** See {@link MatrixProduct#multiply(double[], int, int, Tensor, int, int, Tensor, int)}. */
    public static double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols, Tensor bias, int biasOffset) {
        return current().multiply(x, rows, inner, w, wOffset, cols, bias, biasOffset);
    }

    /** See {@link MatrixProduct#multiply(double[], int, int, Tensor, int, MatrixProduct.RowBlockSink)}. */
    public static void multiply(double[] x, int rows, int inner, Tensor w, int cols, MatrixProduct.RowBlockSink sink) {
        current().multiply(x, rows, inner, w, cols, sink);
    }

    /** See {@link MatrixProduct#multiply(double[], int, int, double[], int)}. */
    public static double[] multiply(double[] x, int rows, int inner, double[] w, int cols) {
        return current().multiply(x, rows, inner, w, cols);
    }

    /** See {@link MatrixProduct#multiplyTransposed(double[], int, double[], int, int)}. */
    public static double[] multiplyTransposed(double[] a, int rows, double[] b, int cols, int inner) {
        return current().multiplyTransposed(a, rows, b, cols, inner);
    }
}

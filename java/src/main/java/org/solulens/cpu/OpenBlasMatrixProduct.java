package org.solulens.cpu;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.solulens.model.Tensor;
import org.solulens.natives.NativeLoader;

/**
 * The matrix products as OpenBLAS {@code cblas_dgemm} calls (the JavaCPP preset, which bundles the native
 * library for linux-x86_64), except those with a float32 weight tensor, which go to {@link FloatWeightProduct} where it
 * runs (it reads the float32 weights as they are). Where it does not, a float32 weight tensor is widened to double once,
 * off the heap, and kept while the tensor lives: {@code dgemm} needs both operands in double, and widening W_U
 * (d_model x d_vocab) on every call would cost as much as a small product. The copy is freed when its tensor is
 * garbage-collected.
 */
public final class OpenBlasMatrixProduct implements MatrixProduct {
    /** Below this many multiply-adds the JNI call and copies cost more than the Java loop. */
    private static final long BLAS_THRESHOLD = 1L << 15;
    /** Rows of x per dgemm call are bounded so that the off-heap copies of x and out stay under 64 MB. */
    private static final long CHUNK_DOUBLES = 1L << 23;
    /**
     * ... and, where more than one call is needed, a multiple of this many rows: OpenBLAS splits a call's rows between
     * its threads for kernels of 8 rows, and an uneven split costs time (B's product, 2048 × 512 × 48262 on two threads:
     * 62–72 GFLOP/s in calls of 173 rows, 75–81 in calls of 128 or 160; benchmarks/NOTES.md). Calls of any multiple of
     * 8 rows also give the same bits as one call over all the rows (checked there); 173 rows did not.
     */
    static final int CHUNK_ROW_MULTIPLE = 64;

    private final Map<Tensor, DoublePointer> widened = new WeakHashMap<>();
    /** Direct copies of heap weight tensors for the native product (a mapped tensor is read in place). */
    private final Map<Tensor, FloatBuffer> directCopies = new WeakHashMap<>();
    /** Whether products with float32 weights go to {@link FloatWeightProduct}. */
    private final boolean floatWeights = FloatWeightProduct.unavailable() == null;
    /**
     * Off-heap copies of x and out, kept between calls: fresh memory costs a page fault per 4 KB on first touch,
     * which made a product of W_U's size ~40% slower. At most one per concurrent caller, each under 64 MB.
     */
    private final ConcurrentLinkedQueue<Scratch> scratch = new ConcurrentLinkedQueue<>();
    private final JavaMatrixProduct small = new JavaMatrixProduct();
    private final int threads;

    private OpenBlasMatrixProduct(int threads) {
        this.threads = threads;
    }

    /**
     * Loads the native library and sets its thread count to the CPU backend's (the common fork-join pool's
     * parallelism plus the calling thread), unless {@code OPENBLAS_NUM_THREADS} says otherwise.
     *
     * @throws LinkageError or a runtime exception when the native library cannot load here
     */
    static OpenBlasMatrixProduct load() {
        // on a thread no interrupt reaches: JavaCPP's first extraction into its cache fails on an interrupt, and
        // openblas_nolapack's initializer with it, for good (NativeLoader)
        return NativeLoader.load("OpenBLAS", OpenBlasMatrixProduct::loadHere);
    }

    private static OpenBlasMatrixProduct loadHere() {
        if (System.getenv("OPENBLAS_THREAD_TIMEOUT") == null) {
            // OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each multi-threaded call, taking a core from
            // the Java threads that run next (the exact sweep ran 25% slower); 2^4 lets them sleep at once. OpenBLAS
            // reads the variable once, when it loads, so it is set in the process's environment just before.
            setEnvironment("OPENBLAS_THREAD_TIMEOUT", "4");
        }
        Loader.load(openblas_nolapack.class);
        NativeLoader.initialize(openblas_nolapack.class.getName());
        int threads;
        String fromEnv = System.getenv("OPENBLAS_NUM_THREADS");
        if (fromEnv != null && !fromEnv.isBlank()) {
            threads = -1;   // OpenBLAS read it when it loaded
        } else {
            threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), ForkJoinPool.getCommonPoolParallelism() + 1));
            Pointer setThreads = Loader.addressof("openblas_set_num_threads");
            try {
                if (setThreads == null || setThreads.isNull()) {
                    throw new UnsatisfiedLinkError("openblas_set_num_threads not found");
                }
                // the preset binds no openblas_set_num_threads; LWJGL calls the C function by its address
                org.lwjgl.system.JNI.invokeV(threads, setThreads.address());
            } catch (LinkageError | RuntimeException e) {
                threads = 0;   // OpenBLAS keeps its own default (one thread per core)
            }
        }
        return new OpenBlasMatrixProduct(threads);
    }

    /** C's setenv (Java has none); a failure only leaves OpenBLAS's default. */
    private static void setEnvironment(String name, String value) {
        java.nio.ByteBuffer k = null, v = null;
        try {
            Pointer setenv = Loader.addressof("setenv");
            if (setenv == null || setenv.isNull()) {
                return;
            }
            k = org.lwjgl.system.MemoryUtil.memUTF8(name);
            v = org.lwjgl.system.MemoryUtil.memUTF8(value);
            org.lwjgl.system.JNI.invokePPI(org.lwjgl.system.MemoryUtil.memAddress(k), org.lwjgl.system.MemoryUtil.memAddress(v), 0,
                    setenv.address());
        } catch (LinkageError | RuntimeException e) {
            // keep OpenBLAS's default
        } finally {
            org.lwjgl.system.MemoryUtil.memFree(k);
            org.lwjgl.system.MemoryUtil.memFree(v);
        }
    }

    @Override
    public String name() {
        String t = threads < 0 ? "OPENBLAS_NUM_THREADS=" + System.getenv("OPENBLAS_NUM_THREADS")
                : threads == 0 ? "OpenBLAS's default threads" : threads + " threads";
        return "OpenBLAS dgemm (" + t + ")" + (floatWeights ? "; float32 weights: the native product" : "");
    }

    @Override
    public double[] multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols, Tensor bias, int biasOffset) {
        if ((long) rows * inner * cols < BLAS_THRESHOLD) {
            return small.multiply(x, rows, inner, w, wOffset, cols, bias, biasOffset);
        }
        double[] out = new double[Math.multiplyExact(rows, cols)];
        if (floatWeights) {
            FloatWeightProduct.multiply(x, rows, inner, direct(w), wOffset, cols, out);
        } else {
            multiply(x, rows, inner, w, wOffset, cols, (first, count, values) -> values.get(out, first * cols, count * cols));
        }
        return MatrixProduct.addBias(out, rows, cols, bias, biasOffset);
    }

    @Override
    public void multiplyNarrowed(double[] x, int rows, int inner, Tensor w, int cols, FloatBuffer out, double[] rowAbsMax) {
        if (floatWeights) {
            FloatWeightProduct.multiplyNarrowed(x, rows, inner, direct(w), cols, out, rowAbsMax);
        } else {
            MatrixProduct.super.multiplyNarrowed(x, rows, inner, w, cols, out, rowAbsMax);
        }
    }

    @Override
    public String narrowedProductName() {
        return floatWeights ? FloatWeightProduct.NAME : name();
    }

    @Override
    public void multiply(double[] x, int rows, int inner, Tensor w, int cols, RowBlockSink sink) {
        multiply(x, rows, inner, w, 0, cols, sink);
    }

    private void multiply(double[] x, int rows, int inner, Tensor w, int wOffset, int cols, RowBlockSink sink) {
        DoublePointer owner = widened(w);
        DoublePointer weights = new DoublePointer(owner).position(wOffset);   // a view: its position is this call's own
        int chunk = chunkRows(rows, Math.max(inner, cols));
        Scratch s = takeScratch((long) chunk * inner, (long) chunk * cols);
        try {
            for (int r0 = 0; r0 < rows; r0 += chunk) {
                int n = Math.min(chunk, rows - r0);
                s.x.position(0).put(x, r0 * inner, n * inner);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, cols, inner, 1.0, s.x, inner, weights, cols, 0.0, s.out, cols);
                sink.accept(r0, n, s.out.position(0).limit((long) n * cols).asBuffer());
            }
        } finally {
            scratch.offer(s);
            Reference.reachabilityFence(owner);   // the widened copy is freed only with its tensor
        }
    }

    @Override
    public double[] multiply(double[] x, int rows, int inner, double[] w, int cols) {
        if ((long) rows * inner * cols < BLAS_THRESHOLD) {
            return small.multiply(x, rows, inner, w, cols);
        }
        double[] out = new double[Math.multiplyExact(rows, cols)];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cols, inner, 1.0, x, inner, w, cols, 0.0, out, cols);
        return out;
    }

    @Override
    public double[] multiplyTransposed(double[] a, int rows, double[] b, int cols, int inner) {
        if ((long) rows * inner * cols < BLAS_THRESHOLD) {
            return small.multiplyTransposed(a, rows, b, cols, inner);
        }
        double[] out = new double[Math.multiplyExact(rows, cols)];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, inner, 1.0, a, inner, b, inner, 0.0, out, cols);
        return out;
    }

    /** Rows per dgemm call for {@code rows} rows of {@code width} doubles (the wider of x's and out's rows). */
    static int chunkRows(int rows, int width) {
        long fits = Math.max(1, CHUNK_DOUBLES / width);
        if (fits >= rows) {
            return rows;
        }
        return (int) (fits >= CHUNK_ROW_MULTIPLE ? fits / CHUNK_ROW_MULTIPLE * CHUNK_ROW_MULTIPLE : fits);
    }

    private static final class Scratch {
        DoublePointer x = new DoublePointer(1), out = new DoublePointer(1);
    }

    private Scratch takeScratch(long xSize, long outSize) {
        Scratch s = scratch.poll();
        if (s == null) {
            s = new Scratch();
        }
        if (s.x.capacity() < xSize) {
            s.x.close();
            s.x = new DoublePointer(xSize);
        }
        if (s.out.capacity() < outSize) {
            s.out.close();
            s.out = new DoublePointer(outSize);
        }
        return s;
    }

    /** The tensor's values in a direct buffer: its own where it is one (a mapped file), else a copy made on first use. */
    private synchronized FloatBuffer direct(Tensor w) {
        FloatBuffer values = w.buffer();
        if (values.isDirect() && values.order() == java.nio.ByteOrder.nativeOrder()) {
            return values;
        }
        return directCopies.computeIfAbsent(w, t -> java.nio.ByteBuffer.allocateDirect(Math.multiplyExact(values.capacity(), 4))
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().put(0, values, 0, values.capacity()));
    }

    /** The tensor's values in double, off the heap; made on first use. */
    private synchronized DoublePointer widened(Tensor w) {
        DoublePointer d = widened.get(w);
        if (d == null) {
            int n = w.buffer().remaining();
            DoublePointer out = new DoublePointer(n);
            // in blocks on every core: most of the cost is the first touch of fresh pages (W_U's 198 MB), which the
            // kernel serves in parallel
            int block = 1 << 16;
            FloatBuffer values = w.buffer();
            int base = values.position();
            java.util.stream.IntStream.range(0, (n + block - 1) / block).parallel().forEach(i -> {
                int from = i * block, len = Math.min(block, n - from);
                NativeConversions.widen(values, base + from, out.address() + 8L * from, len);
            });
            d = out;
            widened.put(w, d);
        }
        return d;
    }
}

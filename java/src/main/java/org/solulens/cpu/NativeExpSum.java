package org.solulens.cpu;

import java.util.Objects;

/**
 * {@link ExpSum} in C++ (native/cpu), for CPUs with AVX2 and FMA: {@link VectorExpSum}'s operations in the same order on
 * 4 double lanes, or 8 where the CPU has AVX-512F, with {@link DoubleExp}'s exponential, so the same bits as the Vector
 * API's loop at that width (tested). Where the JVM's preferred vector has its width (or the Vector API is absent) it
 * replaces the Java loop, whose Vector API code runs interpreted, boxing every vector, until the JIT has compiled it:
 * that made a fresh JVM's first forward pass of 64 tokens at solu-1l's shape 1.1–1.4 s against 0.55–0.6 s with the
 * scalar loop, and a cached 64-token sweep on an AVX-512 VM ~0.9 s slower than with this loop (benchmarks/NOTES.md).
 */
final class NativeExpSum implements ExpSum {
    private static NativeExpSum loaded;
    /** Double lanes per vector: 4 (AVX2) or 8 (AVX-512F). */
    private final int lanes;

    private NativeExpSum(int lanes) {
        this.lanes = lanes;
    }

    int lanes() {
        return lanes;
    }

    /** The loops at the Vector API's width where the CPU runs both (as {@link NativeFloatExpSum#atVectorWidth()}). */
    static synchronized Object atVectorWidth() {
        Object widest = load();
        if (widest instanceof NativeExpSum w && w.lanes != 4 && CpuNativeLibrary.vectorModule()) {
            NativeExpSum at = withLanes(VectorExpSum.lanes());
            return at != null ? at : w;
        }
        return widest;
    }

    /** The loops at {@code lanes} lanes (4, or 8 where the CPU has AVX-512F), for tests; null where they cannot run. */
    static NativeExpSum withLanes(int lanes) {
        return load() instanceof NativeExpSum widest && (lanes == 4 || lanes == widest.lanes) ? new NativeExpSum(lanes) : null;
    }

    /** The loops, or why they cannot run in this JVM. */
    static synchronized Object load() {
        if (loaded != null) {
            return loaded;
        }
        String why = CpuNativeLibrary.loadError();
        if (why == null) {
            why = init(DoubleExp.constants());
        }
        if (why != null) {
            return why;
        }
        loaded = new NativeExpSum(widestLanes0());
        return loaded;
    }

    @Override
    public double sum(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo, double[] beta, int v,
                      double shift) {
        Objects.checkFromIndexSize(ao, v, a.length);
        if (a2 != null) {
            Objects.checkFromIndexSize(ao, v, a2.length);
        }
        if (b != null) {
            Objects.checkFromIndexSize(bo, v, b.length);
        }
        Objects.checkFromIndexSize(0, v, beta.length);
        return sum0(lanes, alpha, a, gamma, a2, ao, delta, b, bo, beta, v, shift);
    }

    @Override
    public double sumExp(double[] x, int offset, int n, double shift) {
        Objects.checkFromIndexSize(offset, n, x.length);
        return sumExp0(lanes, x, offset, n, shift);
    }

    @Override
    public void expInto(double[] x, int offset, int n, double shift, float[] out, int outOffset) {
        Objects.checkFromIndexSize(offset, n, x.length);
        Objects.checkFromIndexSize(outOffset, n, out.length);
        expInto0(lanes, x, offset, n, shift, out, outOffset);
    }

    @Override
    public String name() {
        return "native exp (" + (lanes == 8 ? "AVX-512" : "AVX2") + ", " + lanes + " double lanes, deterministic)";
    }

    private static native String init(double[] constants);

    /** 8 where the CPU has AVX-512F, else 4; after init. */
    private static native int widestLanes0();

    /** These throw IllegalStateException where the JVM cannot give them their arrays. */
    private static native double sum0(int lanes, double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo,
                                      double[] beta, int v, double shift);

    private static native double sumExp0(int lanes, double[] x, int offset, int n, double shift);

    private static native void expInto0(int lanes, double[] x, int offset, int n, double shift, float[] out, int outOffset);
}

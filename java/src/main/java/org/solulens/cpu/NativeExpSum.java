package org.solulens.cpu;

import java.util.Objects;

/**
 * {@link ExpSum} in C++ (native/cpu), for CPUs with AVX2 and FMA: {@link VectorExpSum}'s operations in the same order on
 * 4 double lanes with {@link DoubleExp}'s exponential, so the same bits (tested). Where the JVM's preferred vector is 4
 * doubles (or the Vector API is absent) it replaces the Java loop, whose Vector API code runs interpreted, boxing every
 * vector, until the JIT has compiled it: that made a fresh JVM's first forward pass of 64 tokens at solu-1l's shape
 * 1.1–1.4 s against 0.55–0.6 s with the scalar loop (benchmarks/NOTES.md).
 */
final class NativeExpSum implements ExpSum {
    static final int LANES = 4;
    private static NativeExpSum loaded;

    private NativeExpSum() {}

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
        loaded = new NativeExpSum();
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
        return sum0(alpha, a, gamma, a2, ao, delta, b, bo, beta, v, shift);
    }

    @Override
    public double sumExp(double[] x, int offset, int n, double shift) {
        Objects.checkFromIndexSize(offset, n, x.length);
        return sumExp0(x, offset, n, shift);
    }

    @Override
    public void expInto(double[] x, int offset, int n, double shift, float[] out, int outOffset) {
        Objects.checkFromIndexSize(offset, n, x.length);
        Objects.checkFromIndexSize(outOffset, n, out.length);
        expInto0(x, offset, n, shift, out, outOffset);
    }

    @Override
    public String name() {
        return "native exp (AVX2, 4 double lanes, deterministic)";
    }

    private static native String init(double[] constants);

    /** These throw IllegalStateException where the JVM cannot give them their arrays. */
    private static native double sum0(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo,
                                      double[] beta, int v, double shift);

    private static native double sumExp0(double[] x, int offset, int n, double shift);

    private static native void expInto0(double[] x, int offset, int n, double shift, float[] out, int outOffset);
}

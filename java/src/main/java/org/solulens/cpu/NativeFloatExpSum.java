package org.solulens.cpu;

import java.util.Objects;

/**
 * {@link FloatExpSum} in C++ (native/cpu), for CPUs with AVX2 and FMA: the Vector API loop's operations in the same
 * order on 8 float lanes, or on 16 where the CPU has AVX-512F, so the same bits as the Vector API's loop at that width
 * (tested against the lane-order model). On two Zen 3 cores the Vector API loop ran the sweep's tiles at 2.9e9
 * exponentials a second (one run), this at 5.3–6.1e9; on two Zen 5 cores (AVX-512) 6.5e9 against 1.0–1.1e10. The Java
 * loop also needs B as a heap array, so a B mapped from the constant cache (which this loop reads in place) costs it a
 * 395 MB heap copy: a cached 64-token sweep of solu-1l took 5.5–5.8 s with the Java loops, 2.4–2.5 s with the native
 * ones (benchmarks/NOTES.md). Used where the JVM's preferred vector has this loop's width or the Vector API is absent. A
 * whole tile of the sweep is one call.
 */
final class NativeFloatExpSum implements FloatExpSum {
    private static NativeFloatExpSum loaded;
    /** Float lanes per vector: 8 (AVX2) or 16 (AVX-512F). */
    private final int lanes;

    private NativeFloatExpSum(int lanes) {
        this.lanes = lanes;
    }

    int lanes() {
        return lanes;
    }

    /**
     * The loop at the Vector API's width where the CPU runs both widths and the JVM has the module (a JVM limited to
     * AVX2 on an AVX-512 CPU, {@code -XX:UseAVX=2}, prefers 8 lanes: the same bits as its Java loop, and B read in place),
     * else the widest; or why it cannot run. Asks the Vector API only on a CPU with AVX-512F.
     */
    static synchronized Object atVectorWidth() {
        Object widest = load();
        if (widest instanceof NativeFloatExpSum w && w.lanes != 8 && CpuNativeLibrary.vectorModule()) {
            NativeFloatExpSum at = withLanes(VectorFloatExpSum.lanes());
            return at != null ? at : w;
        }
        return widest;
    }

    /** The loop at {@code lanes} lanes (8, or 16 where the CPU has AVX-512F), for tests; null where it cannot run. */
    static NativeFloatExpSum withLanes(int lanes) {
        return load() instanceof NativeFloatExpSum widest && (lanes == 8 || lanes == widest.lanes) ? new NativeFloatExpSum(lanes) : null;
    }

    /** The loop, or why it cannot run in this JVM (another platform, a CPU without AVX2, a build without the library). */
    static synchronized Object load() {
        if (loaded != null) {
            return loaded;
        }
        String why = CpuNativeLibrary.loadError();
        if (why == null) {
            why = init(new float[] {FloatExp.ROUND, FloatExp.LOG2E, FloatExp.C0, FloatExp.C1, FloatExp.C2, FloatExp.C3, FloatExp.C4,
                FloatExp.C5, FloatExp.C6});
        }
        if (why != null) {
            return why;
        }
        loaded = new NativeFloatExpSum(widestLanes0());
        return loaded;
    }

    @Override
    public double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n) {
        Objects.checkFromIndexSize(qo, n, q.length);
        Objects.checkFromIndexSize(ao, n, a.length);
        if (a2 != null) {
            Objects.checkFromIndexSize(a2o, n, a2.length);
        }
        Objects.checkFromIndexSize(bo, n, b.length);
        return sum0(lanes, q, qo, da, a, ao, da2, a2, a2o, db, b, bo, n);
    }

    @Override
    public void sweepTile(float[] q, float[] a, float[] a2, float[] b, int vocab, int q0, int positions, int n0, int neurons, int chunk,
                          double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums) {
        checkTile(q, a, a2, b.length, vocab, q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
        sweepTile0(lanes, q, a, a2, b, vocab, q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
    }

    @Override
    public void sweepTile(float[] q, float[] a, float[] a2, BMatrix b, int q0, int positions, int n0, int neurons, int chunk,
                          double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums) {
        java.nio.FloatBuffer mapped = b.mapped();
        if (mapped == null) {
            sweepTile(q, a, a2, b.array(), b.cols(), q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
            return;
        }
        checkTile(q, a, a2, mapped.capacity(), b.cols(), q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
        sweepTileMapped0(lanes, q, a, a2, mapped, b.cols(), q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
    }

    /** Every index the tile will read or write, checked before the native call (which checks none). */
    private static void checkTile(float[] q, float[] a, float[] a2, long bLength, int vocab, int q0, int positions, int n0, int neurons,
                                  int chunk, double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums) {
        int pairs = Math.multiplyExact(positions, neurons);
        Objects.checkFromIndexSize((long) q0 * vocab, (long) positions * vocab, q.length);
        Objects.checkFromIndexSize((long) q0 * vocab, (long) positions * vocab, a.length);
        if (a2 != null) {
            Objects.checkFromIndexSize((long) q0 * vocab, (long) positions * vocab, a2.length);
        }
        Objects.checkFromIndexSize((long) n0 * vocab, (long) neurons * vocab, bLength);
        for (double[] x : new double[][] {dA, dA2, dB, sums}) {
            Objects.checkFromIndexSize(0, pairs, x.length);
        }
        Objects.checkFromIndexSize(0, pairs, admitted.length);
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunk must be positive: " + chunk);
        }
    }

    @Override
    public String name() {
        return "native float exp (" + (lanes == 16 ? "AVX-512" : "AVX2") + ", " + lanes + " lanes, deterministic)";
    }

    private static native String init(float[] constants);

    /** 16 where the CPU has AVX-512F, else 8; after init. */
    private static native int widestLanes0();

    /** Throws IllegalStateException where the JVM cannot give it its arrays. */
    private static native double sum0(int lanes, float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n);

    private static native void sweepTile0(int lanes, float[] q, float[] a, float[] a2, float[] b, int vocab, int q0, int positions, int n0, int neurons,
                                             int chunk, double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums);

    /** sweepTile0 with B read in place from a direct buffer (a mapped cache file). */
    private static native void sweepTileMapped0(int lanes, float[] q, float[] a, float[] a2, java.nio.FloatBuffer b, int vocab, int q0, int positions,
                                                int n0, int neurons, int chunk, double[] dA, double[] dA2, double[] dB, boolean[] admitted,
                                                double[] sums);
}

package org.solulens.cpu;

/**
 * The inner loop of the exact sweep's single-precision path: {@code Σ_v q[v] · exp(d_v)} with
 * {@code d_v = da·a[v] + da2·a2[v] + db·b[v]}, over v &lt; n, the exponentials in float32 ({@link FloatExp}), the sum
 * in double (as 2^(d log2 e), log2 e folded into the coefficients). q holds the clean position's probabilities and d the ablation's change of each logit, so
 * {@code Δloss = log(sum) - d_target} (docs/design.md): no shift is needed while |d| stays small, and the float32
 * rounding of d is relative to the change, not to the logits. Callers keep |d_v| log2 e ≤ {@link FloatExp#DOMAIN}.
 *
 * <p>Three implementations, chosen once per JVM: {@link NativeFloatExpSum} (C++, where the CPU has AVX2 and FMA, at the
 * JVM's preferred width, 8 floats or 16 with AVX-512F, or its widest where the Vector API is absent: the same
 * operations as the Vector API's lanes, so the same bits, faster, and reading a mapped B in place),
 * {@link VectorFloatExpSum} (the JDK's Vector API, float lanes at the machine's preferred width) and a scalar loop for JVMs started without {@code jdk.incubator.vector}. Each gives the same bits for the same input
 * every time, compiled or interpreted; they agree with each other to ~1e-7 relative. {@code -Dsolulens.exp=native},
 * {@code vector} or {@code scalar} forces one (for comparisons and tests; {@code -Dsolulens.scalar=true} is scalar).
 */
public interface FloatExpSum {
    /** @param a2 may be null (site post); then da2 is ignored */
    double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n);

    String name();

    /**
     * Every admitted pair's sum for one tile of {@link ExactSweep}: positions {@code q0 ..} of the rows q, a, a2 (a2 may
     * be null) against rows {@code n0 ..} of b, all {@code [.., vocab]}; pair t = i · neurons + j adds, chunk by chunk of
     * the vocabulary, {@code sum(q, a, a2 of position q0+i; (float) dA[t], dA2[t], dB[t]; row n0+j of b)} to
     * {@code sums[t]}. Fixed chunks: a pair's sum is added in the same order whatever the tiling.
     */
    default void sweepTile(float[] q, float[] a, float[] a2, float[] b, int vocab, int q0, int positions, int n0, int neurons, int chunk,
                           double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums) {
        for (int v0 = 0; v0 < vocab; v0 += chunk) {
            int len = Math.min(chunk, vocab - v0);
            for (int j = 0; j < neurons; j++) {
                int bo = (n0 + j) * vocab + v0;
                for (int i = 0; i < positions; i++) {
                    int t = i * neurons + j;
                    if (admitted[t]) {
                        int ro = (q0 + i) * vocab + v0;
                        sums[t] += sum(q, ro, (float) dA[t], a, ro, (float) dA2[t], a2, ro, (float) dB[t], b, bo, len);
                    }
                }
            }
        }
    }

    /**
     * {@link #sweepTile(float[], float[], float[], float[], int, int, int, int, int, int, double[], double[], double[], boolean[], double[])}
     * on the model constant B as the sweep holds it: the Java loops read a heap array (a mapped B's copy, made once);
     * the native loop reads a mapped B in place.
     */
    default void sweepTile(float[] q, float[] a, float[] a2, BMatrix b, int q0, int positions, int n0, int neurons, int chunk,
                           double[] dA, double[] dA2, double[] dB, boolean[] admitted, double[] sums) {
        sweepTile(q, a, a2, b.array(), b.cols(), q0, positions, n0, neurons, chunk, dA, dA2, dB, admitted, sums);
    }

    /** See the class comment: native, else vector, else scalar, unless {@code -Dsolulens.exp} says which. */
    static FloatExpSum best() {
        return Holder.BEST;
    }

    /**
     * Starts, once per JVM, a background thread that runs the vector loop on small inputs until the JIT has compiled it
     * (both sites), so that a sweep's first tiles do not run the interpreted and C1-compiled Vector API, which boxes
     * every vector (the first full sweep of 64 tokens at solu-1l's shape took 2.2 s against 1.35 s for the next). The
     * exact sweep calls it before it builds or reads B, which it overlaps.
     */
    static void warmUp() {
        if (Holder.BEST instanceof VectorFloatExpSum && Holder.WARMING.compareAndSet(false, true)) {
            Thread t = new Thread(() -> {
                float[] q = new float[256], a = new float[256], b = new float[256];
                java.util.Arrays.fill(q, 1f / 256);
                double sink = 0;
                for (int i = 0; i < 6_000; i++) {
                    sink += Holder.BEST.sum(q, 0, 0.01f, a, 0, 0f, null, 0, 0.02f, b, 0, 256);
                    sink += Holder.BEST.sum(q, 0, 0.01f, a, 0, 0.03f, a, 0, 0.02f, b, 0, 256);
                }
                Holder.WARM_SINK = sink;
            }, "solulens-sweep-warmup");
            t.setDaemon(true);
            t.start();
        }
    }

    /** The plain-Java loop, always available. */
    FloatExpSum SCALAR = new FloatExpSum() {
        @Override
        public double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n) {
            float da2e = da * FloatExp.LOG2E, da22e = da2 * FloatExp.LOG2E, db2e = db * FloatExp.LOG2E;
            double s = 0;
            for (int v = 0; v < n; v++) {
                s += q[qo + v] * FloatExp.exp2(logitChange(da2e, a[ao + v], da22e, a2 == null ? 0 : a2[a2o + v], db2e, b[bo + v], a2 != null));
            }
            return s;
        }

        @Override
        public String name() {
            return "scalar float exp";
        }
    };

    /** d = da·a + da2·a2 + db·b in float32, in the order the vector lanes compute it (with the coefficients times log2 e). */
    static float logitChange(float da, float a, float da2, float a2, float db, float b, boolean withA2) {
        float d = db * b;
        if (withA2) {
            d = Math.fma(da2, a2, d);
        }
        return Math.fma(da, a, d);
    }

    final class Holder {
        static final FloatExpSum BEST = choose();
        static final java.util.concurrent.atomic.AtomicBoolean WARMING = new java.util.concurrent.atomic.AtomicBoolean();
        /** Keeps the warm-up's result alive, so that the JIT cannot drop the loop as dead code. */
        static volatile double WARM_SINK;

        private Holder() {}

        private static FloatExpSum choose() {
            return CpuNativeLibrary.choose("sweep float inner loop", FloatExpSum.class, NativeFloatExpSum::atVectorWidth,
                    () -> NativeFloatExpSum.atVectorWidth() instanceof NativeFloatExpSum n && n.lanes() == VectorFloatExpSum.lanes(),
                    () -> new VectorFloatExpSum(), SCALAR);
        }
    }
}

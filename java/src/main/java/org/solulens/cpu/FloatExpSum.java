package org.solulens.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inner loop of the exact sweep's single-precision path: {@code Σ_v q[v] · exp(d_v)} with
 * {@code d_v = da·a[v] + da2·a2[v] + db·b[v]}, over v &lt; n, the exponentials in float32 ({@link FloatExp}), the sum
 * in double. q holds the clean position's probabilities and d the ablation's change of each logit, so
 * {@code Δloss = log(sum) - d_target} (docs/design.md): no shift is needed while |d| stays small, and the float32
 * rounding of d is relative to the change, not to the logits. Callers keep |d_v| ≤ {@link FloatExp#DOMAIN}.
 *
 * <p>Two implementations, chosen once per JVM: {@link VectorFloatExpSum} (the JDK's Vector API, float lanes at the
 * machine's preferred width) and a scalar loop for JVMs started without {@code jdk.incubator.vector}. Each gives the
 * same bits for the same input every time, compiled or interpreted; they agree with each other to ~1e-7 relative.
 */
public interface FloatExpSum {
    /** @param a2 may be null (site post); then da2 is ignored */
    double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n);

    String name();

    /** The vector implementation when the module is there (and -Dsolulens.scalar is not set), else the scalar one. */
    static FloatExpSum best() {
        return Holder.BEST;
    }

    /** The plain-Java loop, always available. */
    FloatExpSum SCALAR = new FloatExpSum() {
        @Override
        public double sum(float[] q, int qo, float da, float[] a, int ao, float da2, float[] a2, int a2o, float db, float[] b, int bo, int n) {
            double s = 0;
            for (int v = 0; v < n; v++) {
                s += q[qo + v] * FloatExp.exp(logitChange(da, a[ao + v], da2, a2 == null ? 0 : a2[a2o + v], db, b[bo + v], a2 != null));
            }
            return s;
        }

        @Override
        public String name() {
            return "scalar float exp";
        }
    };

    /** d = da·a + da2·a2 + db·b in float32, in the order the vector lanes compute it. */
    static float logitChange(float da, float a, float da2, float a2, float db, float b, boolean withA2) {
        float d = db * b;
        if (withA2) {
            d = Math.fma(da2, a2, d);
        }
        return Math.fma(da, a, d);
    }

    final class Holder {
        static final FloatExpSum BEST = choose();

        private Holder() {}

        private static FloatExpSum choose() {
            Logger log = LoggerFactory.getLogger(FloatExpSum.class);
            if (Boolean.getBoolean("solulens.scalar") || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                log.debug("sweep float inner loop: scalar");
                return SCALAR;
            }
            return new VectorFloatExpSum();
        }
    }
}

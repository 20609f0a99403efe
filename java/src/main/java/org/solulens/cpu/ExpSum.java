package org.solulens.cpu;

/**
 * The inner loop of the exact sweep: {@code Σ_v exp(α a[v] + γ a2[v] + δ b[v] + β[v] - shift)} over the vocabulary,
 * in double. Three implementations give the same sums to ~1e-15: {@link NativeExpSum} (C++, AVX2 CPUs: the Vector API
 * loop's operations on 4 lanes, so its bits, from the first call), {@link VectorExpSum} (the JDK's Vector API, whose
 * vector exp is ~5x faster than {@code Math.exp}; needs {@code --add-modules jdk.incubator.vector}) and a scalar loop
 * for JVMs with neither. Chosen as {@link FloatExpSum}'s are ({@code -Dsolulens.exp}).
 */
public interface ExpSum {
    /** @param a2 may be null (site post); then γ is ignored */
    double sum(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo, double[] beta,
               int v, double shift);

    /** {@code Σ_i exp(x[offset + i] - shift)} for i &lt; n: the softmax sums of the loss. */
    double sumExp(double[] x, int offset, int n, double shift);

    /** {@code out[outOffset + i] = (float) exp(x[offset + i] - shift)} for i &lt; n: the clean probabilities of the float sweep. */
    void expInto(double[] x, int offset, int n, double shift, float[] out, int outOffset);

    String name();

    /** Native, else vector, else scalar, unless {@code -Dsolulens.exp} says which. */
    static ExpSum best() {
        return Holder.BEST;
    }

    /** The plain-Java loop, always available. */
    ExpSum SCALAR = new ExpSum() {
        @Override
        public double sum(double alpha, double[] a, double gamma, double[] a2, int ao, double delta, float[] b, int bo,
                          double[] beta, int v, double shift) {
            double s = 0;
            for (int i = 0; i < v; i++) {
                double l = alpha * a[ao + i] + beta[i] - shift + (b == null ? 0 : delta * b[bo + i]);
                if (a2 != null) {
                    l += gamma * a2[ao + i];
                }
                s += Math.exp(l);
            }
            return s;
        }

        @Override
        public double sumExp(double[] x, int offset, int n, double shift) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += Math.exp(x[offset + i] - shift);
            }
            return s;
        }

        @Override
        public void expInto(double[] x, int offset, int n, double shift, float[] out, int outOffset) {
            for (int i = 0; i < n; i++) {
                out[outOffset + i] = (float) Math.exp(x[offset + i] - shift);
            }
        }

        @Override
        public String name() {
            return "scalar Math.exp";
        }
    };

    final class Holder {
        static final ExpSum BEST = choose();

        private Holder() {}

        private static ExpSum choose() {
            return CpuNativeLibrary.choose("double exp loop", ExpSum.class, NativeExpSum::atVectorWidth,
                    () -> NativeExpSum.atVectorWidth() instanceof NativeExpSum n && n.lanes() == VectorExpSum.lanes(), () -> new VectorExpSum(), SCALAR);
        }
    }
}

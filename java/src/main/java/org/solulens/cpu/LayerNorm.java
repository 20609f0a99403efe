package org.solulens.cpu;

import org.solulens.model.Tensor;

/**
 * TransformerLens's LayerNorm over the last dimension, in double:
 * {@code scale = sqrt(mean((x - mean x)^2) + eps)}, {@code normalized = (x - mean x) / scale},
 * {@code out = w * normalized + b} (no gain and bias for LNPre: {@code w}, {@code b} null).
 * The variance is accumulated in double because in solu-1l's MLP LayerNorm it is ~1% of eps.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /**
     * @param normalized receives (x - mean) / scale, before gain and bias (TransformerLens 3.x's hook_normalized)
     * @param scale receives one scale per row
     */
    public static void forward(double[] x, int rows, int width, Tensor w, Tensor b, double eps,
                               double[] normalized, double[] scale, double[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            double mean = 0;
            for (int i = 0; i < width; i++) {
                mean += x[o + i];
            }
            mean /= width;
            double var = 0;
            for (int i = 0; i < width; i++) {
                double c = x[o + i] - mean;
                var += c * c;
            }
            var /= width;
            double s = Math.sqrt(var + eps);
            scale[r] = s;
            for (int i = 0; i < width; i++) {
                double n = (x[o + i] - mean) / s;
                normalized[o + i] = n;
                out[o + i] = gainAndBias(n, w, b, i);
            }
        }
    }

    /** Element i of a normalized row after the gain and bias ({@code n} itself without them, as for LNPre). */
    static double gainAndBias(double n, Tensor w, Tensor b, int i) {
        return w == null ? n : n * w.get(i) + b.get(i);
    }
}

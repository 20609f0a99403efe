package org.solulens.cpu;

import org.solulens.model.ActivationFunction;

/** The MLP activation functions applied row by row to {@code hook_pre}, in double. */
public final class MlpActivation {
    private MlpActivation() {}

    public static void forward(ActivationFunction f, double[] pre, int rows, int width, double[] out) {
        switch (f) {
            case SOLU, SOLU_LN -> solu(pre, rows, width, out);
            case GELU -> {
                for (int i = 0; i < rows * width; i++) {
                    out[i] = gelu(pre[i]);
                }
            }
            case GELU_NEW -> {
                for (int i = 0; i < rows * width; i++) {
                    out[i] = geluNew(pre[i]);
                }
            }
            case RELU -> {
                for (int i = 0; i < rows * width; i++) {
                    out[i] = Math.max(pre[i], 0);
                }
            }
        }
    }

    /** SoLU: {@code x * softmax(x)} over each row, the softmax shifted by the row max so exp never overflows. */
    public static void solu(double[] x, int rows, int width, double[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < width; i++) {
                max = Math.max(max, x[o + i]);
            }
            double sum = 0;
            for (int i = 0; i < width; i++) {
                sum += Math.exp(x[o + i] - max);
            }
            for (int i = 0; i < width; i++) {
                out[o + i] = x[o + i] * (Math.exp(x[o + i] - max) / sum);
            }
        }
    }

    /** Exact GELU, {@code x * Phi(x)} (PyTorch's default {@code F.gelu}). */
    public static double gelu(double x) {
        return 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
    }

    /** GPT-2's tanh approximation of GELU (TransformerLens's {@code gelu_new}). */
    public static double geluNew(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }
}

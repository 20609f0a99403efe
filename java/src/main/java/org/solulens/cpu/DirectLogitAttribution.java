package org.solulens.cpu;

import org.solulens.backend.DlaResult;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;

/** Direct logit attribution of the MLP output and of every neuron toward each position's next token, in double. */
public final class DirectLogitAttribution {
    private DirectLogitAttribution() {}

    public static DlaResult run(ModelConfig cfg, SoluWeights w, ForwardResult clean, boolean tlVariant) {
        int P = clean.tokens().length - 1, N = cfg.dMlp(), D = cfg.dModel(), V = cfg.dVocab();
        double[] mlpOut = clean.get(Hooks.MLP_OUT).data(), post = clean.get(Hooks.MLP_POST).data();
        double[] scale = clean.get(Hooks.LN_FINAL_SCALE).data();
        double[] outRows = new double[N * D];
        for (int i = 0; i < outRows.length; i++) {
            outRows[i] = w.wOut.get(i);
        }
        for (int n = 0; n < N; n++) {
            SweepConstants.centre(outRows, n * D, D);   // the final LayerNorm removes each component's mean
        }
        int rows = Math.max(P, 0);
        double[] mlp = new double[rows], u = new double[rows * D];   // u[p] = ln_final.w ⊙ W_U[:, t_p] / σ_p
        for (int p = 0; p < rows; p++) {
            int t = clean.tokens()[p + 1];
            for (int d = 0; d < D; d++) {
                double gain = tlVariant || w.lnFinalW == null ? 1 : w.lnFinalW.get(d);
                u[p * D + d] = gain * w.wU.get(d * V + t) / scale[p];
            }
            double[] x = java.util.Arrays.copyOfRange(mlpOut, p * D, (p + 1) * D);
            SweepConstants.centre(x, 0, D);
            mlp[p] = SweepConstants.dot(x, 0, u, p * D, D);
        }
        double[] neuron = MatMul.multiplyTransposed(u, rows, outRows, N, D);   // [P, N]: W̄_out[n] · u[p]
        for (int i = 0; i < neuron.length; i++) {
            neuron[i] *= post[i];
        }
        return new DlaResult(Math.max(P, 0), N, mlp, neuron, tlVariant);
    }
}

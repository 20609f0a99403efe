package org.solulens.cpu;

import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;

/**
 * Ablating a whole activation vector at one position (every neuron at once, the seed paper's Part 2b), by
 * re-running that position from the ablated vector: one more unembedding per position.
 */
public final class PositionAblation {
    private PositionAblation() {}

    /** Entry p: loss'(p) - loss(p) when every neuron at position p is ablated (p &lt; P-1). */
    public static double[] run(ModelConfig cfg, SoluWeights w, ForwardResult clean, Ablation ablation) {
        if (ablation.kind() == Ablation.Kind.PAPER) {
            throw new IllegalArgumentException("whole-position ablation supports zero, mean and value ablations");
        }
        int P = clean.tokens().length - 1, N = cfg.dMlp(), D = cfg.dModel(), V = cfg.dVocab();
        double[] residMid = clean.get(Hooks.RESID_MID).data();
        double[] delta = new double[Math.max(P, 0)];
        // The ablated MLP output does not depend on the position: compute it once, then every position's
        // final LayerNorm and one unembedding for all positions together.
        double[] act = new double[N];
        for (int n = 0; n < N; n++) {
            act[n] = ablation.replacement(n);
        }
        double[] post = act;
        if (ablation.site() == Ablation.Site.MID) {
            post = new double[N];
            LayerNorm.forward(act, 1, N, w.mlpLnW, w.mlpLnB, cfg.eps(), new double[N], new double[1], post);
        }
        double[] mlpOut = MatMul.multiply(post, 1, N, w.wOut, 0, D, w.bOut, 0);
        double[] resid = new double[Math.max(P, 0) * D];
        for (int p = 0; p < P; p++) {
            for (int i = 0; i < D; i++) {
                resid[p * D + i] = residMid[p * D + i] + mlpOut[i];
            }
        }
        double[] x = new double[resid.length];
        LayerNorm.forward(resid, Math.max(P, 0), D, w.lnFinalW, w.lnFinalB, cfg.eps(), new double[resid.length], new double[Math.max(P, 0)], x);
        double[] logits = MatMul.multiply(x, Math.max(P, 0), D, w.wU, 0, V, w.bU, 0);
        for (int p = 0; p < P; p++) {
            int t = clean.tokens()[p + 1];
            delta[p] = CrossEntropy.logSumExp(logits, p * V, V) - logits[p * V + t] - clean.loss()[p];
        }
        return delta;
    }
}

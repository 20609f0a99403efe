package org.solulens.cpu;

import java.util.List;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;

/**
 * The forward pass from the MLP's activation on, at one position, for several edited activation vectors at once:
 * the MLP LayerNorm (edits at {@code hook_mid}), W_out, the residual, ln_final, the unembedding and the loss, in double.
 * An edit at one position of a one-layer model changes no other position's logits, so this is the whole re-forward.
 */
public final class MlpTail {
    private MlpTail() {}

    /** Δloss at position p for each set of neurons ablated there together (zero, mean or value ablation). */
    public static double[] groupDeltaLoss(ModelConfig cfg, SoluWeights w, ForwardResult clean, Ablation ablation, int p, List<int[]> sets) {
        if (ablation.kind() == Ablation.Kind.PAPER) {
            throw new IllegalArgumentException("group ablation supports zero, mean and value ablations, not paper");
        }
        boolean mid = ablation.site() == Ablation.Site.MID;
        if (mid && !cfg.actFn().hasMlpLayerNorm()) {
            throw new IllegalArgumentException("mid ablation needs the MLP LayerNorm of a solu_ln model; this model's act_fn is "
                    + cfg.actFn().tlName());
        }
        // row 0 is the clean activation: its loss, through the same arithmetic, is what the others are compared with
        int N = cfg.dMlp(), D = cfg.dModel(), V = cfg.dVocab(), rows = sets.size() + 1;
        int P = clean.tokens().length - 1;
        if (p < 0 || p >= P) {
            throw new IllegalArgumentException("position " + p + " is out of range [0, " + P + ")");
        }
        double[] source = clean.get(ablation.site().hook()).data();
        double[] act = new double[rows * N];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(source, p * N, act, r * N, N);
            for (int n : r == 0 ? new int[0] : sets.get(r - 1)) {
                if (n < 0 || n >= N) {
                    throw new IllegalArgumentException("neuron " + n + " is out of range [0, " + N + ") (d_mlp)");
                }
                act[r * N + n] = ablation.replacement(n);
            }
        }
        double[] post = act;
        if (mid) {
            post = new double[act.length];
            LayerNorm.forward(act, rows, N, w.mlpLnW, w.mlpLnB, cfg.eps(), new double[act.length], new double[rows], post);
        }
        double[] resid = MatMul.multiply(post, rows, N, w.wOut, 0, D, w.bOut, 0);
        double[] residMid = clean.get(Hooks.RESID_MID).data();
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < D; i++) {
                resid[r * D + i] += residMid[p * D + i];
            }
        }
        double[] x = new double[resid.length];
        LayerNorm.forward(resid, rows, D, w.lnFinalW, w.lnFinalB, cfg.eps(), new double[resid.length], new double[rows], x);
        double[] logits = MatMul.multiply(x, rows, D, w.wU, 0, V, w.bU, 0);
        int target = clean.tokens()[p + 1];
        double cleanLoss = CrossEntropy.logSumExp(logits, 0, V) - logits[target];
        double[] delta = new double[rows - 1];
        for (int r = 1; r < rows; r++) {
            delta[r - 1] = CrossEntropy.logSumExp(logits, r * V, V) - logits[r * V + target] - cleanLoss;
        }
        return delta;
    }
}

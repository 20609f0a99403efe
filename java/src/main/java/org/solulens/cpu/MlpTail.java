package org.solulens.cpu;

import java.util.List;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;

/**
 * The forward pass from the MLP's activation on, at one position, for several edited activation vectors at once:
 * the MLP LayerNorm (edits at {@code hook_mid}), W_out, the residual, ln_final and the unembedding, in double. An edit
 * at one position of a one-layer model changes no other position's logits, so this is the whole re-forward. Either
 * LayerNorm can divide by a given (frozen) scale instead of its own, as a TransformerLens hook on its
 * {@code hook_scale} would make it. The re-forward sweep and group ablation both run on it.
 */
public final class MlpTail {
    private MlpTail() {}

    /**
     * {@code rows} MLP outputs (W_out applied, b_out added) from activations at the site: at {@code hook_mid} they go
     * through the MLP LayerNorm first, dividing by {@code mlpLnScale} unless it is NaN.
     */
    static double[] mlpOut(ModelConfig cfg, SoluWeights w, double[] act, int rows, boolean mid, double mlpLnScale) {
        int N = cfg.dMlp();
        double[] post = !mid ? act : layerNorm(act, rows, N, w.mlpLnW, w.mlpLnB, cfg.eps(), mlpLnScale);
        return MatMul.multiply(post, rows, N, w.wOut, 0, cfg.dModel(), w.bOut, 0);
    }

    /**
     * The logits [rows, d_vocab] of residual rows: {@code mlpOut} plus position {@code p}'s resid_mid (added in place),
     * ln_final (dividing by {@code finalScale} unless it is NaN), the unembedding.
     */
    static double[] logits(ModelConfig cfg, SoluWeights w, double[] mlpOut, int rows, double[] residMid, int p, double finalScale) {
        int D = cfg.dModel();
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < D; i++) {
                mlpOut[r * D + i] += residMid[p * D + i];          // now resid_post'
            }
        }
        double[] x = layerNorm(mlpOut, rows, D, w.lnFinalW, w.lnFinalB, cfg.eps(), finalScale);
        return MatMul.multiply(x, rows, D, w.wU, 0, cfg.dVocab(), w.bU, 0);
    }

    /** LayerNorm by rows; with a finite {@code scale}, {@code (x - mean) / scale · gain + bias} (a frozen scale). */
    private static double[] layerNorm(double[] x, int rows, int width, Tensor gain, Tensor bias, double eps, double scale) {
        double[] out = new double[x.length];
        if (Double.isNaN(scale)) {
            LayerNorm.forward(x, rows, width, gain, bias, eps, new double[x.length], new double[rows], out);
            return out;
        }
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < width; i++) {
                mean += x[r * width + i];
            }
            mean /= width;
            for (int i = 0; i < width; i++) {
                double z = (x[r * width + i] - mean) / scale;
                out[r * width + i] = gain == null ? z : z * gain.get(i) + bias.get(i);
            }
        }
        return out;
    }

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
        int N = cfg.dMlp(), V = cfg.dVocab(), rows = sets.size() + 1;
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
        double[] logits = logits(cfg, w, mlpOut(cfg, w, act, rows, mid, Double.NaN), rows, clean.get(Hooks.RESID_MID).data(), p, Double.NaN);
        int target = clean.tokens()[p + 1];
        double cleanLoss = CrossEntropy.logSumExp(logits, 0, V) - logits[target];
        double[] delta = new double[rows - 1];
        for (int r = 1; r < rows; r++) {
            delta[r - 1] = CrossEntropy.logSumExp(logits, r * V, V) - logits[r * V + target] - cleanLoss;
        }
        return delta;
    }
}

package org.solulens.analysis;

import java.util.ArrayList;
import java.util.List;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.LayerNorm;
import org.solulens.cpu.MatMul;
import org.solulens.cpu.MlpActivation;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;

/**
 * Which input moves the MLP LayerNorm's factor along a prompt, exactly. The factor at position p is
 * {@code 1 / hook_scale} of {@code blocks.0.mlp.ln}, a function of the residual stream there,
 * {@code resid_mid[p] = embed[p] + pos_embed[p] + attn_out[p]} ({@code attn_out} holding b_O, as TransformerLens's
 * hook does). The change of its logarithm between a reference position and p is split among the three components by
 * their Shapley values over the 2^3 counterfactuals (each component taken at p or at the reference position, the MLP's
 * head re-run from {@code ln2} to the LayerNorm's input): the parts sum to the total change, exactly up to rounding.
 *
 * <p>For a model without an MLP LayerNorm (the GELU twin) the same split is made of {@code log(1/sqrt(var + eps))} of
 * the activation's input, {@code hook_pre}: the control, a normalisation that is not there.
 */
public final class LnFactorAttribution {
    /** What the clean pass must have cached. */
    public static final List<String> HOOKS = List.of(Hooks.EMBED, Hooks.POS_EMBED, Hooks.ATTN_OUT);

    /**
     * One position's split: {@code logFactor} at p, {@code total} = its change from the reference position, and the
     * three parts (Shapley values) that sum to it.
     */
    public record Parts(int position, double logFactor, double total, double embed, double posEmbed, double attnOut) {
        /** {@return the parts' sum less the total: rounding only} */
        public double residual() {
            return embed + posEmbed + attnOut - total;
        }
    }

    private LnFactorAttribution() {}

    /**
     * The split at every position of {@code clean}, from {@code reference} (the first non-BOS position is the usual
     * choice). {@code clean} must hold {@link #HOOKS}; any backend's pass does.
     */
    public static List<Parts> attribute(SoluModel model, ForwardResult clean, int reference) {
        ModelConfig cfg = model.config();
        int P = clean.tokens().length, D = cfg.dModel();
        if (reference < 0 || reference >= P) {
            throw new IllegalArgumentException("reference position " + reference + " is outside the prompt's " + P + " positions");
        }
        double[][] components = {clean.get(Hooks.EMBED).data(), clean.get(Hooks.POS_EMBED).data(), clean.get(Hooks.ATTN_OUT).data()};
        // the 8 counterfactual residual streams of every position: row (p * 8 + mask), component c at p when bit c is set
        double[] resid = new double[P * 8 * D];
        for (int p = 0; p < P; p++) {
            for (int mask = 0; mask < 8; mask++) {
                int row = (p * 8 + mask) * D;
                for (int c = 0; c < 3; c++) {
                    int from = ((mask >> c & 1) == 1 ? p : reference) * D;
                    for (int d = 0; d < D; d++) {
                        resid[row + d] += components[c][from + d];
                    }
                }
            }
        }
        double[] v = logFactors(model, resid, P * 8);
        List<Parts> out = new ArrayList<>(P);
        for (int p = 0; p < P; p++) {
            double[] shapley = new double[3];
            for (int c = 0; c < 3; c++) {
                for (int mask = 0; mask < 8; mask++) {
                    if ((mask >> c & 1) == 1) {
                        continue;
                    }
                    int others = Integer.bitCount(mask);   // coalition without c: weight |S|! (n - |S| - 1)! / n!
                    double weight = others == 1 ? 1.0 / 6 : 1.0 / 3;
                    shapley[c] += weight * (v[p * 8 + (mask | 1 << c)] - v[p * 8 + mask]);
                }
            }
            out.add(new Parts(p, v[p * 8 + 7], v[p * 8 + 7] - v[p * 8], shapley[0], shapley[1], shapley[2]));
        }
        return out;
    }

    /**
     * {@code log(1 / scale)} of the MLP LayerNorm for each of {@code rows} residual-stream rows [rows, d_model]: the
     * MLP's head (ln2, W_in, the activation) re-run in float64; for a model without the LayerNorm, of {@code hook_pre}.
     */
    public static double[] logFactors(SoluModel model, double[] residMid, int rows) {
        ModelConfig cfg = model.config();
        SoluWeights w = model.weights();
        int D = cfg.dModel(), N = cfg.dMlp();
        double[] normalized = new double[rows * D], scale = new double[rows], ln2 = new double[rows * D];
        LayerNorm.forward(residMid, rows, D, w.ln2W, w.ln2B, cfg.eps(), normalized, scale, ln2);
        double[] pre = MatMul.multiply(ln2, rows, D, w.wIn, 0, N, w.bIn, 0);
        double[] input = pre;
        if (cfg.actFn().hasMlpLayerNorm()) {
            input = new double[rows * N];
            MlpActivation.forward(cfg.actFn(), pre, rows, N, input);
        }
        double[] mlpScale = new double[rows];
        LayerNorm.forward(input, rows, N, null, null, cfg.eps(), new double[rows * N], mlpScale, new double[rows * N]);
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = -Math.log(mlpScale[r]);
        }
        return out;
    }
}

package org.solulens.backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.solulens.model.ModelConfig;

/**
 * The activation-cache keys: TransformerLens hook names, plus {@code logits} and {@code loss}.
 * Shapes drop TransformerLens's batch dimension (one prompt per cache), and squeeze {@code hook_scale}
 * to [pos]: P = prompt length, D = d_model, H = n_heads, d = d_head, N = d_mlp, V = d_vocab.
 */
public final class Hooks {
    /** {@code hook_embed}, shape [P, D] */
    public static final String EMBED = "hook_embed";
    /** {@code hook_pos_embed}, shape [P, D] */
    public static final String POS_EMBED = "hook_pos_embed";
    /** {@code blocks.0.hook_resid_pre}, shape [P, D] */
    public static final String RESID_PRE = "blocks.0.hook_resid_pre";
    /** {@code blocks.0.ln1.hook_scale}, shape [P] */
    public static final String LN1_SCALE = "blocks.0.ln1.hook_scale";
    /** {@code blocks.0.ln1.hook_normalized}, shape [P, D] */
    public static final String LN1_NORMALIZED = "blocks.0.ln1.hook_normalized";
    /** {@code blocks.0.attn.hook_q}, shape [P, H, d] */
    public static final String Q = "blocks.0.attn.hook_q";
    /** {@code blocks.0.attn.hook_k}, shape [P, H, d] */
    public static final String K = "blocks.0.attn.hook_k";
    /** {@code blocks.0.attn.hook_v}, shape [P, H, d] */
    public static final String V = "blocks.0.attn.hook_v";
    /** {@code blocks.0.attn.hook_attn_scores}, shape [H, P, P], -inf above the diagonal */
    public static final String ATTN_SCORES = "blocks.0.attn.hook_attn_scores";
    /** {@code blocks.0.attn.hook_pattern}, shape [H, P, P] */
    public static final String PATTERN = "blocks.0.attn.hook_pattern";
    /** {@code blocks.0.attn.hook_z}, shape [P, H, d] */
    public static final String Z = "blocks.0.attn.hook_z";
    /** {@code blocks.0.hook_attn_out}, shape [P, D] */
    public static final String ATTN_OUT = "blocks.0.hook_attn_out";
    /** {@code blocks.0.hook_resid_mid}, shape [P, D] */
    public static final String RESID_MID = "blocks.0.hook_resid_mid";
    /** {@code blocks.0.ln2.hook_scale}, shape [P] */
    public static final String LN2_SCALE = "blocks.0.ln2.hook_scale";
    /** {@code blocks.0.ln2.hook_normalized}, shape [P, D] */
    public static final String LN2_NORMALIZED = "blocks.0.ln2.hook_normalized";
    /** {@code blocks.0.mlp.hook_pre}, shape [P, N] */
    public static final String MLP_PRE = "blocks.0.mlp.hook_pre";
    /** {@code blocks.0.mlp.hook_mid}, shape [P, N] (solu_ln only) */
    public static final String MLP_MID = "blocks.0.mlp.hook_mid";
    /** {@code blocks.0.mlp.ln.hook_scale}, shape [P]    (solu_ln only) */
    public static final String MLP_LN_SCALE = "blocks.0.mlp.ln.hook_scale";
    /** {@code blocks.0.mlp.ln.hook_normalized}, shape [P, N] (solu_ln only) */
    public static final String MLP_LN_NORMALIZED = "blocks.0.mlp.ln.hook_normalized";
    /** {@code blocks.0.mlp.hook_post}, shape [P, N] */
    public static final String MLP_POST = "blocks.0.mlp.hook_post";
    /** {@code blocks.0.hook_mlp_out}, shape [P, D] */
    public static final String MLP_OUT = "blocks.0.hook_mlp_out";
    /** {@code blocks.0.hook_resid_post}, shape [P, D] */
    public static final String RESID_POST = "blocks.0.hook_resid_post";
    /** {@code ln_final.hook_scale}, shape [P] */
    public static final String LN_FINAL_SCALE = "ln_final.hook_scale";
    /** {@code ln_final.hook_normalized}, shape [P, D] */
    public static final String LN_FINAL_NORMALIZED = "ln_final.hook_normalized";
    /** {@code logits}, shape [P, V] */
    public static final String LOGITS = "logits";
    /** {@code loss}, shape [P-1]: loss of token p+1 at p */
    public static final String LOSS = "loss";

    /** Every key, in forward order. */
    public static final List<String> ALL = List.of(EMBED, POS_EMBED, RESID_PRE, LN1_SCALE, LN1_NORMALIZED, Q, K, V,
            ATTN_SCORES, PATTERN, Z, ATTN_OUT, RESID_MID, LN2_SCALE, LN2_NORMALIZED, MLP_PRE, MLP_MID, MLP_LN_SCALE,
            MLP_LN_NORMALIZED, MLP_POST, MLP_OUT, RESID_POST, LN_FINAL_SCALE, LN_FINAL_NORMALIZED, LOGITS, LOSS);

    private static final Set<String> MLP_LN_ONLY = Set.of(MLP_MID, MLP_LN_SCALE, MLP_LN_NORMALIZED);

    private Hooks() {}

    /** The keys a model of this configuration has (models without SoLU's LayerNorm lack hook_mid and mlp.ln). */
    public static List<String> available(ModelConfig cfg) {
        List<String> out = new ArrayList<>();
        for (String h : ALL) {
            if (cfg.actFn().hasMlpLayerNorm() || !MLP_LN_ONLY.contains(h)) {
                out.add(h);
            }
        }
        return out;
    }

    /** Checks requested names against this model's hooks; throws naming the first unknown one. */
    public static Set<String> select(ModelConfig cfg, Collection<String> requested) {
        List<String> available = available(cfg);
        Set<String> out = new LinkedHashSet<>();
        for (String name : requested) {
            if (!available.contains(name)) {
                String why = ALL.contains(name)
                        ? "hook '" + name + "' does not exist for act_fn " + cfg.actFn().tlName()
                        : "unknown hook name '" + name + "'";
                throw new IllegalArgumentException(why + "; available: " + String.join(", ", available));
            }
            out.add(name);
        }
        return out;
    }
}

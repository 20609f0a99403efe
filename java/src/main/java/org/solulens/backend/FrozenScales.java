package org.solulens.backend;

/**
 * Which LayerNorm scales an ablation may move. Freezing a scale holds it at its clean value, as a TransformerLens user
 * does by patching the LayerNorm's {@code hook_scale} with the clean activation; the centring still applies. Freezing
 * keeps the ablated logits a low-rank update of the clean ones, so the exact sweep computes every variant
 * (docs/design.md, "Direct and mediated effects"). For an ablation at {@code hook_mid} the three variants split the
 * total effect: direct = {@code BOTH}; mediated by the MLP LayerNorm = {@code LN_FINAL} - {@code BOTH}; mediated by
 * ln_final = {@code NONE} - {@code LN_FINAL}. At {@code hook_post} the MLP LayerNorm is upstream, so
 * {@code LN_FINAL} and {@code BOTH} agree.
 */
public enum FrozenScales {
    /** Both scales re-computed from the ablated activations: the total effect. */
    NONE,
    /** ln_final's scale held at its clean value; the MLP LayerNorm's re-computed. */
    LN_FINAL,
    /** Both the MLP LayerNorm's and ln_final's scales held at their clean values: the direct effect. */
    BOTH;

    /** {@return whether the MLP LayerNorm's scale is held at its clean value} */
    public boolean mlpLn() {
        return this == BOTH;
    }

    /** {@return whether ln_final's scale is held at its clean value} */
    public boolean lnFinal() {
        return this != NONE;
    }
}

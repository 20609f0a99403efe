package org.solulens.backend;

import java.util.ArrayList;
import java.util.List;
import org.solulens.model.ModelConfig;

/**
 * One prompt's sweep: which ablation, which (position, neuron) pairs, by which method.
 *
 * @param selected row-major [P-1, d_mlp] mask of the pairs to ablate, or null for all
 * @param withCosine also report the cosine similarity of the ablated position's logits with the clean ones
 */
public record SweepRequest(Ablation ablation, SweepMethod method, boolean[] selected, boolean withCosine) {
    /** The hooks a clean forward pass must have cached for this request. */
    public List<String> requiredHooks(ModelConfig cfg) {
        if (ablation.site() == Ablation.Site.MID || ablation.kind() == Ablation.Kind.PAPER) {
            if (!cfg.actFn().hasMlpLayerNorm()) {
                throw new IllegalArgumentException(ablation.label() + " ablation needs the MLP LayerNorm of a solu_ln model; this model's act_fn is "
                        + cfg.actFn().tlName());
            }
        }
        List<String> hooks = new ArrayList<>(List.of(Hooks.RESID_MID, Hooks.MLP_POST, Hooks.RESID_POST,
                Hooks.LN_FINAL_SCALE, Hooks.LOSS, Hooks.MLP_OUT));
        if (cfg.actFn().hasMlpLayerNorm()) {
            hooks.addAll(List.of(Hooks.MLP_MID, Hooks.MLP_LN_SCALE, Hooks.MLP_LN_NORMALIZED));
        }
        return hooks;
    }

    /** {@return whether (position {@code p}, neuron {@code n}) is swept: always, without a selection} */
    public boolean isSelected(int p, int n, int dMlp) {
        return selected == null || selected[p * dMlp + n];
    }
}

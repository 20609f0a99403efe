package org.solulens.backend;

import java.util.ArrayList;
import java.util.List;
import org.solulens.model.ModelConfig;

/**
 * One prompt's sweep: which ablation, which (position, neuron) pairs, by which method.
 *
 * @param selected row-major [P-1, d_mlp] mask of the pairs to ablate, or null for all
 * @param withCosine also report the cosine similarity of the ablated position's logits with the clean ones
 * @param frozen the LayerNorm scales held at their clean values (the exact and re-forward methods; NONE otherwise)
 */
public record SweepRequest(Ablation ablation, SweepMethod method, boolean[] selected, boolean withCosine, FrozenScales frozen) {
    /** Checks that frozen scales come with a method that honours them. */
    public SweepRequest {
        java.util.Objects.requireNonNull(frozen, "frozen");
        if (frozen != FrozenScales.NONE && method == SweepMethod.ATTRIBUTION) {
            throw new IllegalArgumentException("frozen LayerNorm scales need the exact or reforward method, not attribution");
        }
    }

    /** A request that freezes no scale: the total effect. */
    public SweepRequest(Ablation ablation, SweepMethod method, boolean[] selected, boolean withCosine) {
        this(ablation, method, selected, withCosine, FrozenScales.NONE);
    }

    /** {@return this request with {@code scales} frozen} */
    public SweepRequest withFrozen(FrozenScales scales) {
        return new SweepRequest(ablation, method, selected, withCosine, scales);
    }

    /**
     * The hooks a clean forward pass must have cached for this request: the same for both sites (callers sweep one
     * clean pass at either), ln_final's normalized rows among them, from which the CPU sweep at site post can remake the
     * clean logits.
     */
    public List<String> requiredHooks(ModelConfig cfg) {
        if (ablation.site() == Ablation.Site.MID || ablation.kind() == Ablation.Kind.PAPER) {
            if (!cfg.actFn().hasMlpLayerNorm()) {
                throw new IllegalArgumentException(ablation.label() + " ablation needs the MLP LayerNorm of a solu_ln model; this model's act_fn is "
                        + cfg.actFn().tlName());
            }
        }
        List<String> hooks = new ArrayList<>(List.of(Hooks.RESID_MID, Hooks.MLP_POST, Hooks.RESID_POST,
                Hooks.LN_FINAL_SCALE, Hooks.LN_FINAL_NORMALIZED, Hooks.LOSS, Hooks.MLP_OUT));
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

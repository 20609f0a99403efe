package org.solulens.analysis;

import org.solulens.backend.Ablation;
import org.solulens.backend.Backend;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.FrozenScales;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;

/**
 * Each neuron's effect at each position split by the path it takes to the loss ("total vs direct effect", as in the
 * confidence-regulation-neuron work of Stolfo et al., 2024, applied to the MLP LayerNorm of the smearing hypothesis):
 * <ul>
 * <li><b>direct</b>: both LayerNorm scales (the MLP LayerNorm's and ln_final's) frozen at their clean values;</li>
 * <li><b>via the MLP LayerNorm</b>: what re-computing the MLP LayerNorm's scale (and mean) adds, ln_final frozen;</li>
 * <li><b>via ln_final</b>: what re-computing ln_final's scale adds on top: the rest of the total.</li>
 * </ul>
 * Three exact sweeps ({@link FrozenScales} BOTH, LN_FINAL, NONE), each a low-rank update of the clean logits, so the
 * split is exact and costs three sweeps (docs/design.md, "Direct and mediated effects"). At {@code hook_post} the MLP
 * LayerNorm is upstream of the ablation and its part is zero.
 */
public final class EffectDecomposition {
    private EffectDecomposition() {}

    /**
     * One prompt's split, each row-major [P-1, d_mlp] (position p: the loss of predicting token p+1).
     *
     * @param positions P - 1
     * @param dMlp neurons per position
     * @param total Δloss with every scale re-computed (the ordinary exact sweep)
     * @param direct Δloss with both scales frozen
     * @param viaMlpLn the part mediated by the MLP LayerNorm (ln_final frozen minus both frozen)
     * @param viaLnFinal the part mediated by ln_final (total minus ln_final frozen)
     */
    public record Parts(int positions, int dMlp, double[] total, double[] direct, double[] viaMlpLn, double[] viaLnFinal) {
        /** {@return the index of (position p, neuron n) in the arrays} */
        public int index(int p, int n) {
            return p * dMlp + n;
        }
    }

    /**
     * Splits every neuron's effect at every position of {@code clean} (a clean pass with the hooks the exact sweep needs).
     *
     * @param backend runs the three sweeps (a GPU runs them on the device)
     * @param clean the clean pass
     * @param ablation what replaces the neuron
     * @return the parts; they sum to the total up to rounding
     */
    public static Parts run(Backend backend, ForwardResult clean, Ablation ablation) {
        SweepRequest request = new SweepRequest(ablation, SweepMethod.EXACT, null, false);
        SweepResult total = backend.sweep(clean, request);
        SweepResult lnFinalFrozen = backend.sweep(clean, request.withFrozen(FrozenScales.LN_FINAL));
        SweepResult bothFrozen = ablation.site() == Ablation.Site.POST ? lnFinalFrozen
                : backend.sweep(clean, request.withFrozen(FrozenScales.BOTH));
        int size = total.delta().length;
        double[] viaMlpLn = new double[size], viaLnFinal = new double[size];
        for (int i = 0; i < size; i++) {
            viaMlpLn[i] = lnFinalFrozen.delta()[i] - bothFrozen.delta()[i];
            viaLnFinal[i] = total.delta()[i] - lnFinalFrozen.delta()[i];
        }
        return new Parts(total.positions(), total.dMlp(), total.delta(), bothFrozen.delta(), viaMlpLn, viaLnFinal);
    }
}

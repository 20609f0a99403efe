package org.solulens.backend;

/**
 * Direct logit attribution toward the correct next token: for a residual-stream component x at position p
 * and target t = token p+1, {@code ((x - mean x) / σ_p) ⊙ ln_final.w · W_U[:, t]} with σ_p = ln_final.hook_scale[p].
 * With the gain the attributions of all components sum to the logit minus its bias part; TransformerLens's own
 * {@code logit_attrs} on an un-folded model leaves the gain out ({@code tlVariant}).
 *
 * @param mlp [P-1]: x = blocks.0.hook_mlp_out[p]
 * @param neuron row-major [P-1, d_mlp]: x = post[p, n] · W_out[n]
 */
public record DlaResult(int positions, int dMlp, double[] mlp, double[] neuron, boolean tlVariant) {
    /** {@return neuron {@code n}'s direct logit attribution at position {@code p}} */
    public double neuron(int p, int n) {
        return neuron[p * dMlp + n];
    }
}

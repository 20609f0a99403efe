package org.solulens.backend;

/**
 * Change of next-token loss for every (position, neuron) ablation of one prompt.
 *
 * @param delta row-major [P-1, d_mlp]: entry (p, n) is loss'(p) - loss(p) when neuron n is ablated at position p
 *     only (loss(p) predicts token p+1); NaN for pairs that were not selected
 * @param cosine the same shape: cosine similarity of position p's ablated logits with its clean logits, or null
 */
public record SweepResult(int positions, int dMlp, double[] delta, double[] cosine) {
    /** {@return Δloss at position {@code p} when neuron {@code n} is ablated there} */
    public double delta(int p, int n) {
        return delta[p * dMlp + n];
    }
}

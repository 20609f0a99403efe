package org.solulens.corpus;

/**
 * A context where a neuron's ablation mattered (or where it was most active): the window and the position in it whose
 * next-token loss changed by {@code delta} when the neuron was ablated, the document and the position there of that
 * position's token (-1 for a BOS or separator), the neuron's activation there, and a stretch of surrounding tokens
 * ({@code context}, starting at window position {@code contextStart}) with the neuron's Δloss at each
 * ({@code contextDeltas}; the last token is the one predicted at the last position, so it has none: NaN).
 */
public record Example(int neuron, long window, int windowPosition, int document, int position, double delta, double activation,
                      int contextStart, int[] context, double[] contextDeltas) {

    /** The order of "largest Δloss first": Δloss, then window, then position, so that ties resolve the same on every run. */
    static int byDeltaDescending(Example a, Example b) {
        int c = Double.compare(b.delta, a.delta);
        return c != 0 ? c : byPlace(a, b);
    }

    static int byDeltaAscending(Example a, Example b) {
        int c = Double.compare(a.delta, b.delta);
        return c != 0 ? c : byPlace(a, b);
    }

    static int byActivationDescending(Example a, Example b) {
        int c = Double.compare(b.activation, a.activation);
        return c != 0 ? c : byPlace(a, b);
    }

    private static int byPlace(Example a, Example b) {
        int c = Long.compare(a.window, b.window);
        return c != 0 ? c : Integer.compare(a.windowPosition, b.windowPosition);
    }
}

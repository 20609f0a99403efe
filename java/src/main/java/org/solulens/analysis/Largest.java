package org.solulens.analysis;

import java.util.Arrays;
import java.util.List;

/**
 * The k items of largest score, kept as they are offered: largest first, ties in the order offered, which is what a
 * stable sort of every item by descending score would list first. For the sweep's extremes, which are taken over
 * d_mlp pairs a position and need not keep them all. {@link #admits} lets a caller skip making an item that would be
 * dropped.
 */
final class Largest<T> {
    private final Object[] items;
    private final double[] scores;
    private int size;

    Largest(int k) {
        items = new Object[k];
        scores = new double[k];
    }

    /** Whether an item of this score would be kept (strictly above the k-th: an equal one offered earlier stays). */
    boolean admits(double score) {
        return items.length > 0 && (size < items.length || score > scores[size - 1]);
    }

    void offer(double score, T item) {
        if (!admits(score)) {
            return;
        }
        int at = size == items.length ? size - 1 : size;
        while (at > 0 && score > scores[at - 1]) {
            at--;
        }
        int moved = Math.min(size, items.length - 1) - at;
        System.arraycopy(items, at, items, at + 1, moved);
        System.arraycopy(scores, at, scores, at + 1, moved);
        items[at] = item;
        scores[at] = score;
        size = Math.min(size + 1, items.length);
    }

    /** Largest first. */
    @SuppressWarnings("unchecked")
    List<T> items() {
        return (List<T>) List.of(Arrays.copyOf(items, size));
    }
}

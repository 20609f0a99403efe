package org.solulens.corpus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The k best examples under a total order (ties broken by place), whatever order they arrive in: a bounded heap whose
 * head is the worst kept. {@link #wouldKeep} lets a caller skip building an example that would be dropped.
 */
final class TopK {
    private final int k;
    private final Comparator<Example> order;
    private final PriorityQueue<Example> heap;

    TopK(int k, Comparator<Example> order) {
        this.k = k;
        this.order = order;
        this.heap = new PriorityQueue<>(Math.max(1, k), order.reversed());
    }

    /** Whether an example with these values would enter (compared with the worst kept, by value then place). */
    boolean wouldKeep(Example probe) {
        return k > 0 && (heap.size() < k || order.compare(probe, heap.peek()) < 0);
    }

    void offer(Example e) {
        if (wouldKeep(e)) {
            heap.add(e);
            if (heap.size() > k) {
                heap.poll();
            }
        }
    }

    /** Best first. */
    List<Example> sorted() {
        List<Example> out = new ArrayList<>(heap);
        out.sort(order);
        return out;
    }
}

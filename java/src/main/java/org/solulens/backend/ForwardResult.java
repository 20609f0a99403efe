package org.solulens.backend;

import java.util.Collections;
import java.util.Map;

/**
 * The outcome of one prompt's forward pass: its tokens, the per-token next-token loss and the cached
 * activations that were asked for (TransformerLens's {@code run_with_cache}, batch dimension dropped).
 *
 * @param loss entry p is the cross-entropy of predicting token p+1 at position p; length P-1
 */
public record ForwardResult(int[] tokens, double[] loss, Map<String, Activation> cache) {
    /** Wraps the cache read-only. */
    public ForwardResult {
        cache = Collections.unmodifiableMap(cache);
    }

    /** The cached activation for a hook name; a clear error if it was not captured. */
    public Activation get(String hook) {
        Activation a = cache.get(hook);
        if (a == null) {
            throw new IllegalArgumentException("hook '" + hook + "' was not captured in this run; captured: "
                    + String.join(", ", cache.keySet()));
        }
        return a;
    }

    /** Mean of the per-token losses, as TransformerLens's {@code return_type="loss"} (NaN for a 1-token prompt). */
    public double meanLoss() {
        double s = 0;
        for (double l : loss) {
            s += l;
        }
        return loss.length == 0 ? Double.NaN : s / loss.length;
    }
}

package org.solulens.backend;

import java.util.Locale;

/** How a sweep computes the change of loss of every (position, neuron) ablation. */
public enum SweepMethod {
    /** Exact, by the low-rank algebra of docs/design.md: P·N·V work, no re-run of the unembedding. */
    EXACT,
    /** Exact, by actually recomputing resid_post, the final LayerNorm, the logits and the loss: the slow truth. */
    REFORWARD,
    /** First-order estimate {@code -c · dloss/dactivation} (attribution patching); not exact. */
    ATTRIBUTION;

    /** Parses a method's label (any case); throws naming the expected values otherwise. */
    public static SweepMethod parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "exact", "exact-algebraic" -> EXACT;
            case "reforward" -> REFORWARD;
            case "attribution" -> ATTRIBUTION;
            default -> throw new IllegalArgumentException("unknown method '" + s + "'; expected exact, reforward or attribution");
        };
    }

    /** {@return the lower-case name the CLI and the reports use} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}

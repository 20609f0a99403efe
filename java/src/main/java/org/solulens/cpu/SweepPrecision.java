package org.solulens.cpu;

/** How the CPU backend's exact sweep computes its exponentials. */
public enum SweepPrecision {
    /**
     * The default: each pair's Δloss as {@code log Σ_v q_v exp(d_v) - d_target} (q the clean probabilities, d the
     * change of each logit) with the exponentials in float32 lanes and the sums in double, 2–3.5x the double path's
     * rate; a pair whose logits can move by more than {@link ExactSweep#SINGLE_MAX_CHANGE} falls back to the double path.
     * At most ~7e-7 + 2.4e-7·c from {@link #DOUBLE} (c ≤ 20 the pair's bound on a logit's change; README, "How the exact
     * sweep works"); measured ~1e-8 at solu-1l's shape.
     */
    SINGLE,
    /** Every logit and exponential in double: the reference the single path is tested against. */
    DOUBLE;

    /** Parses {@code single} or {@code double} (any case); throws naming the expected values otherwise. */
    public static SweepPrecision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "'; expected single or double");
        }
    }
}

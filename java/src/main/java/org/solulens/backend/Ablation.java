package org.solulens.backend;

import java.util.Locale;

/**
 * What one ablation does to one neuron at one position.
 *
 * @param site where the neuron's value is replaced
 * @param kind how the replacement value is chosen
 * @param values the replacement value per neuron (d_mlp entries) for {@link Kind#MEAN} and {@link Kind#VALUE};
 *     null for {@link Kind#ZERO} and {@link Kind#PAPER}
 */
public record Ablation(Site site, Kind kind, double[] values) {
    /** Where a neuron is ablated. */
    public enum Site {
        /** {@code blocks.0.mlp.hook_post}: after the MLP's LayerNorm (the seed paper's Part 2). */
        POST,
        /** {@code blocks.0.mlp.hook_mid}: before it, so the LayerNorm re-normalises every neuron (where smearing would show). */
        MID;

        /** {@return the hook this site's ablation replaces: {@link Hooks#MLP_POST} or {@link Hooks#MLP_MID}} */
        public String hook() {
            return this == POST ? Hooks.MLP_POST : Hooks.MLP_MID;
        }

        /** Parses {@code post} or {@code mid} (any case); throws naming the expected values otherwise. */
        public static Site parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "post" -> POST;
                case "mid" -> MID;
                default -> throw new IllegalArgumentException("unknown site '" + s + "'; expected post or mid");
            };
        }
    }

    /** How the replacement value is chosen. */
    public enum Kind {
        /** Set the activation to 0. */
        ZERO,
        /** Set it to the neuron's mean (over a prompt set; see {@link #values}). */
        MEAN,
        /** Set it to a value given per neuron. */
        VALUE,
        /**
         * The seed paper's post-LayerNorm ablation: zero the normalized value {@code mlp.ln.hook_normalized[p, n]}
         * in TransformerLens's processed model ({@code fold_ln}, {@code center_writing_weights}), which removes
         * {@code n[p,n] * Z_n} from resid_post with {@code Z_n = g_n W_out[n] - mean_j(g_j W_out[j])}. Site POST only.
         */
        PAPER;

        /** Parses {@code zero}, {@code mean}, {@code value} or {@code paper} (any case); throws naming the expected values otherwise. */
        public static Kind parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown ablation '" + s + "'; expected zero, mean, value or paper");
            }
        }
    }

    /** Checks that {@code values} is given (one per neuron) exactly when the kind needs it. */
    public Ablation {
        boolean needsValues = kind == Kind.MEAN || kind == Kind.VALUE;
        if (needsValues && values == null) {
            throw new IllegalArgumentException(kind.name().toLowerCase(Locale.ROOT) + "-ablation needs one value per neuron");
        }
        if (values != null) {
            for (int n = 0; n < values.length; n++) {
                if (!Double.isFinite(values[n])) {
                    throw new IllegalArgumentException("the " + kind.name().toLowerCase(Locale.ROOT) + "-ablation value of neuron " + n
                            + " is " + values[n] + "; ablation values must be finite numbers");
                }
            }
        }
        if (kind == Kind.PAPER && site != Site.POST) {
            throw new IllegalArgumentException("the paper ablation zeroes the normalized value after the MLP LayerNorm: site must be post");
        }
    }

    /** {@return zero-ablation at {@code site}} */
    public static Ablation zero(Site site) {
        return new Ablation(site, Kind.ZERO, null);
    }

    /** The value neuron n is set to (the paper ablation has none: it zeroes the normalized value). */
    public double replacement(int n) {
        return values == null ? 0 : values[n];
    }

    /** A short label for files and tables: "post-zero", "mid-mean", ... */
    public String label() {
        return site.name().toLowerCase(Locale.ROOT) + "-" + kind.name().toLowerCase(Locale.ROOT);
    }
}

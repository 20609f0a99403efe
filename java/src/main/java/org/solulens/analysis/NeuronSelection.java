package org.solulens.analysis;

import java.util.Arrays;
import java.util.Locale;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;

/**
 * Which (position, neuron) pairs a sweep ablates, as a row-major [P-1, d_mlp] mask built from a clean forward pass.
 * Parsed from the CLI's {@code --neurons} and {@code --select}.
 */
public abstract class NeuronSelection {
    /** For subclasses: a selection is defined by its {@link #mask}. */
    protected NeuronSelection() {}

    /** The mask for one prompt, or null meaning every pair. */
    public abstract boolean[] mask(ForwardResult clean, int dMlp);

    /** {@return a short description of the selection, for reports} */
    public abstract String describe();

    /** The hooks {@link #mask} reads. */
    public String[] hooks() {
        return new String[0];
    }

    /** {@return every neuron at every position} */
    public static NeuronSelection all() {
        return new NeuronSelection() {
            public boolean[] mask(ForwardResult clean, int dMlp) {
                return null;
            }

            public String describe() {
                return "all neurons at every position";
            }
        };
    }

    /** The same neurons at every position. */
    public static NeuronSelection neurons(int[] ids) {
        return new NeuronSelection() {
            public boolean[] mask(ForwardResult clean, int dMlp) {
                int rows = clean.tokens().length - 1;
                boolean[] m = new boolean[rows * dMlp];
                checkRange(ids, dMlp);
                for (int n : ids) {
                    for (int p = 0; p < rows; p++) {
                        m[p * dMlp + n] = true;
                    }
                }
                return m;
            }

            public String describe() {
                return "neurons " + Arrays.toString(ids);
            }
        };
    }

    /**
     * Per position, the {@code count} (or {@code fraction} of d_mlp) neurons with the lowest or highest value of
     * {@code hook}; {@code ratio} ranks by the seed's code instead: |normalized / mid| after dividing each by its
     * position's maximum (blocks.0.mlp.ln.hook_normalized and blocks.0.mlp.hook_mid).
     */
    public static NeuronSelection perPosition(String hook, boolean lowest, boolean ratio, int count, double fraction) {
        return new NeuronSelection() {
            public boolean[] mask(ForwardResult clean, int dMlp) {
                int rows = clean.tokens().length - 1;
                int k = count > 0 ? Math.min(count, dMlp) : (int) Math.floor(fraction * dMlp);
                boolean[] m = new boolean[rows * dMlp];
                for (int p = 0; p < rows; p++) {
                    double[] score = ratio ? ratioScores(clean, p, dMlp) : Arrays.copyOfRange(clean.get(hook).data(), p * dMlp, (p + 1) * dMlp);
                    Integer[] order = new Integer[dMlp];
                    Arrays.setAll(order, i -> i);
                    Arrays.sort(order, (a, b) -> lowest ? Double.compare(score[a], score[b]) : Double.compare(score[b], score[a]));
                    for (int i = 0; i < k; i++) {
                        m[p * dMlp + order[i]] = true;
                    }
                }
                return m;
            }

            public String describe() {
                String amount = count > 0 ? Integer.toString(count) : String.format(Locale.ROOT, "%.4g%%", 100 * fraction);
                return "per position, the " + amount + (lowest ? " lowest" : " highest") + " neurons by "
                        + (ratio ? "|normalized/max| / |mid/max| (the seed's code)" : hook);
            }

            public String[] hooks() {
                return ratio ? new String[] {Hooks.MLP_MID, Hooks.MLP_LN_NORMALIZED} : new String[] {hook};
            }
        };
    }

    private static double[] ratioScores(ForwardResult clean, int p, int n) {
        double[] mid = Arrays.copyOfRange(clean.get(Hooks.MLP_MID).data(), p * n, (p + 1) * n);
        double[] norm = Arrays.copyOfRange(clean.get(Hooks.MLP_LN_NORMALIZED).data(), p * n, (p + 1) * n);
        double midMax = Arrays.stream(mid).max().orElse(1), normMax = Arrays.stream(norm).max().orElse(1);
        double[] score = new double[n];
        for (int i = 0; i < n; i++) {
            score[i] = Math.abs((norm[i] / normMax) / (mid[i] / midMax));
        }
        return score;
    }

    /**
     * Parses {@code --select}: {@code lowest:10%}, {@code highest:20}, {@code ratio:10%} (lowest ratio, the seed's code).
     */
    public static NeuronSelection parseSelect(String spec, String hook) {
        String[] parts = spec.split(":", 2);
        if (parts.length != 2) {
            throw new IllegalArgumentException("--select '" + spec + "': expected lowest:K, highest:K or ratio:K, with K a count or a percentage like 10%");
        }
        String mode = parts[0].toLowerCase(Locale.ROOT), amount = parts[1].trim();
        if (!mode.equals("lowest") && !mode.equals("highest") && !mode.equals("ratio")) {
            throw new IllegalArgumentException("--select '" + spec + "': unknown mode '" + parts[0] + "'; expected lowest, highest or ratio");
        }
        int count = 0;
        double fraction = 0;
        try {
            if (amount.endsWith("%")) {
                fraction = Double.parseDouble(amount.substring(0, amount.length() - 1)) / 100;
                if (!(fraction > 0 && fraction <= 1)) {
                    throw new NumberFormatException();
                }
            } else {
                count = Integer.parseInt(amount);
                if (count <= 0) {
                    throw new NumberFormatException();
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--select '" + spec + "': '" + amount + "' is not a positive count or a percentage in (0, 100]");
        }
        return perPosition(hook, !mode.equals("highest"), mode.equals("ratio"), count, fraction);
    }

    /** Parses {@code --neurons}: {@code all} or a comma-separated list of ids. */
    public static NeuronSelection parseNeurons(String spec) {
        return parseNeurons(spec, Integer.MAX_VALUE);
    }

    /**
     * Parses {@code --neurons} for a model with {@code dMlp} neurons: an id out of [0, dMlp) is an error here, before
     * anything runs.
     *
     * @param spec {@code all} or comma-separated neuron ids
     * @param dMlp the model's d_mlp
     * @return the selection
     */
    public static NeuronSelection parseNeurons(String spec, int dMlp) {
        if (spec.equalsIgnoreCase("all")) {
            return all();
        }
        try {
            int[] ids = Arrays.stream(spec.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            if (dMlp != Integer.MAX_VALUE) {
                checkRange(ids, dMlp);
            }
            return neurons(ids);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--neurons '" + spec + "': expected 'all' or comma-separated neuron ids");
        }
    }

    private static void checkRange(int[] ids, int dMlp) {
        for (int n : ids) {
            if (n < 0 || n >= dMlp) {
                throw new IllegalArgumentException("neuron " + n + " is out of range [0, " + dMlp + ") (d_mlp)");
            }
        }
    }
}

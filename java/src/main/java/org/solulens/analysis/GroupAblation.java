package org.solulens.analysis;

import java.util.List;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.MlpTail;
import org.solulens.model.SoluModel;

/**
 * Ablating a whole set of neurons at one position at once, against the sum of its members' single effects: features
 * smeared over many neurons would matter together and not alone. A neuron's ablation reaches only its own position's
 * logits, so each (position, set) costs one re-run of the MLP's tail there (the MLP LayerNorm for {@code mid}, W_out,
 * ln_final, the unembedding), in double on the CPU.
 */
public final class GroupAblation {
    private GroupAblation() {}

    /**
     * The lowest, a random, and the highest {@code size} neurons at one position.
     *
     * @param lowest the {@code size} neurons with the smallest ranking activation, ascending
     * @param random {@code size} neurons drawn uniformly without replacement (the control)
     * @param highest the {@code size} neurons with the largest ranking activation, descending
     */
    public record Sets(int[] lowest, int[] random, int[] highest) {
        /** {@return the three sets in the order lowest, random, highest} */
        public List<int[]> all() {
            return List.of(lowest, random, highest);
        }
    }

    /** The names of {@link Sets#all()}'s sets, in order. */
    public static final List<String> SET_NAMES = List.of("lowest", "random", "highest");

    /**
     * Ranks position {@code p}'s neurons by {@code activation} (row-major [P, d_mlp]) and draws a random set of the
     * same size; ties keep the lower index first.
     *
     * @param activation the ranking activation, e.g. {@code hook_mid}
     * @param dMlp neurons per position
     * @param p the position
     * @param size the set size, 1 to d_mlp
     * @param rng the random set's source
     * @return the sets
     */
    public static Sets sets(double[] activation, int dMlp, int p, int size, java.util.Random rng) {
        return sets(order(activation, dMlp, p), size, rng);
    }

    /**
     * The sets from a position's neurons already ranked ({@link #order}), for callers that need the ranking too.
     *
     * @param order the position's neurons in ascending order of the ranking activation
     * @param size the set size, 1 to d_mlp
     * @param rng the random set's source
     * @return the sets
     */
    public static Sets sets(int[] order, int size, java.util.Random rng) {
        int dMlp = order.length;
        if (size < 1 || size > dMlp) {
            throw new IllegalArgumentException("a group of " + size + " neurons: expected 1 to d_mlp = " + dMlp);
        }
        int[] lowest = new int[size], highest = new int[size];
        for (int i = 0; i < size; i++) {
            lowest[i] = order[i];
            highest[i] = order[dMlp - 1 - i];
        }
        int[] all = java.util.stream.IntStream.range(0, dMlp).toArray();
        for (int i = 0; i < size; i++) {   // a partial Fisher-Yates shuffle
            int j = i + rng.nextInt(dMlp - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return new Sets(lowest, java.util.Arrays.copyOf(all, size), highest);
    }

    /**
     * {@return position {@code p}'s neurons in ascending order of {@code activation} (row-major [P, d_mlp]); ties keep
     * the lower index first}
     */
    public static int[] order(double[] activation, int dMlp, int p) {
        return java.util.stream.IntStream.range(0, dMlp).boxed().sorted((a, b) -> {
            int c = Double.compare(activation[p * dMlp + a], activation[p * dMlp + b]);
            return c != 0 ? c : Integer.compare(a, b);
        }).mapToInt(Integer::intValue).toArray();
    }

    /**
     * Δloss at position {@code p} when every neuron of each set is ablated there at once.
     *
     * @param model the model
     * @param clean a clean pass holding the ablation site's hook, resid_mid and the loss
     * @param ablation what replaces the neurons, and where
     * @param p the position (predicting token p+1)
     * @param sets the sets of neurons
     * @return one Δloss per set
     */
    public static double[] deltaLoss(SoluModel model, ForwardResult clean, Ablation ablation, int p, List<int[]> sets) {
        return MlpTail.groupDeltaLoss(model.config(), model.weights(), clean, ablation, p, sets);
    }

    /**
     * {@return the sum over {@code set} of single-neuron Δloss at position {@code p}} {@code delta} is an exact sweep's
     * result, row-major [P-1, d_mlp].
     */
    public static double sumOfSingles(double[] delta, int dMlp, int p, int[] set) {
        double sum = 0;
        for (int n : set) {
            sum += delta[p * dMlp + n];
        }
        return sum;
    }

    /** {@return the hook a site's sets are ranked by: hook_mid where the model has it, else hook_post} */
    public static String rankingHook(SoluModel model) {
        return model.config().actFn().hasMlpLayerNorm() ? Hooks.MLP_MID : Hooks.MLP_POST;
    }
}

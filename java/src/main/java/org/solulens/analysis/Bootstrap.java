package org.solulens.analysis;

import java.util.Arrays;
import java.util.Random;

/**
 * Percentile bootstrap over prompts of a per-position mean: prompts are resampled with replacement (positions of one
 * prompt are not independent, prompts are), and the statistic is the mean over every position of the resampled prompts.
 * A difference of two such means (two measures on the same prompts, or two models given the same prompts) resamples
 * the same prompt indices for both, so that it is paired.
 */
public final class Bootstrap {
    private Bootstrap() {}

    /**
     * A point estimate and its percentile interval.
     *
     * @param estimate the statistic on the data as observed
     * @param low the interval's lower end
     * @param high the interval's upper end
     */
    public record Interval(double estimate, double low, double high) {
        /** {@return whether the whole interval is above zero} */
        public boolean above0() {
            return low > 0;
        }

        /** {@return "estimate [low, high]" with 3 significant digits} */
        public String format() {
            return String.format(java.util.Locale.ROOT, "%.3g [%.3g, %.3g]", estimate, low, high);
        }
    }

    /**
     * The mean over positions of A minus that of B (B may be null: the mean of A), with a 95% interval.
     *
     * @param sumsA per prompt, the sum of A over its positions
     * @param countsA per prompt, its number of positions
     * @param sumsB the same for B over the same prompts (same length), or null
     * @param countsB B's counts, or null
     * @param resamples how many bootstrap resamples, e.g. 2000
     * @param seed the resampling's seed
     * @return the estimate and its 2.5% and 97.5% percentiles
     */
    public static Interval meanDifference(double[] sumsA, double[] countsA, double[] sumsB, double[] countsB, int resamples, long seed) {
        int prompts = sumsA.length;
        if (prompts == 0 || countsA.length != prompts || (sumsB != null && (sumsB.length != prompts || countsB.length != prompts))) {
            throw new IllegalArgumentException("bootstrap: per-prompt sums and counts must have one entry per prompt, for A and B alike");
        }
        int[] identity = new int[prompts];
        Arrays.setAll(identity, i -> i);
        double estimate = statistic(identity, sumsA, countsA, sumsB, countsB);
        double[] values = new double[resamples];
        Random rng = new Random(seed);
        int[] pick = new int[prompts];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < prompts; i++) {
                pick[i] = rng.nextInt(prompts);
            }
            values[b] = statistic(pick, sumsA, countsA, sumsB, countsB);
        }
        Arrays.sort(values);
        return new Interval(estimate, percentile(values, 0.025), percentile(values, 0.975));
    }

    private static double statistic(int[] pick, double[] sumsA, double[] countsA, double[] sumsB, double[] countsB) {
        double sa = 0, ca = 0, sb = 0, cb = 0;
        for (int i : pick) {
            sa += sumsA[i];
            ca += countsA[i];
            if (sumsB != null) {
                sb += sumsB[i];
                cb += countsB[i];
            }
        }
        return sa / ca - (sumsB == null ? 0 : sb / cb);
    }

    private static double percentile(double[] sorted, double q) {
        double at = q * (sorted.length - 1);
        int lo = (int) Math.floor(at), hi = (int) Math.ceil(at);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    }
}

package org.solulens.analysis;

import java.util.Arrays;
import java.util.Random;

/** The few statistics the experiments report. */
public final class Statistics {
    private Statistics() {}

    /** {@return the mean of {@code x}; NaN when empty} */
    public static double mean(double[] x) {
        return Arrays.stream(x).average().orElse(Double.NaN);
    }

    /** {@return Pearson's correlation of {@code x} and {@code y} (same length)} */
    public static double pearson(double[] x, double[] y) {
        double mx = mean(x), my = mean(y), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    /** Spearman's rank correlation (ties get their average rank). */
    public static double spearman(double[] x, double[] y) {
        return pearson(ranks(x), ranks(y));
    }

    static double[] ranks(double[] x) {
        Integer[] order = new Integer[x.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Double.compare(x[a], x[b]));
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; ) {
            int j = i;
            while (j + 1 < x.length && x[order[j + 1]] == x[order[i]]) {
                j++;
            }
            for (int k = i; k <= j; k++) {
                r[order[k]] = (i + j) / 2.0;
            }
            i = j + 1;
        }
        return r;
    }

    /**
     * Two-sided permutation test of the difference of means of {@code a} and {@code b}: the share of random
     * relabellings (with the observed one counted) whose |difference| is at least the observed one.
     */
    public static double permutationPValue(double[] a, double[] b, int permutations, long seed) {
        double observed = Math.abs(mean(a) - mean(b));
        double[] pooled = new double[a.length + b.length];
        System.arraycopy(a, 0, pooled, 0, a.length);
        System.arraycopy(b, 0, pooled, a.length, b.length);
        Random rng = new Random(seed);
        int atLeast = 0;
        for (int t = 0; t < permutations; t++) {
            for (int i = pooled.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                double tmp = pooled[i];
                pooled[i] = pooled[j];
                pooled[j] = tmp;
            }
            double sa = 0, sb = 0;
            for (int i = 0; i < a.length; i++) {
                sa += pooled[i];
            }
            for (int i = a.length; i < pooled.length; i++) {
                sb += pooled[i];
            }
            if (Math.abs(sa / a.length - sb / b.length) >= observed - 1e-15) {
                atLeast++;
            }
        }
        return (atLeast + 1.0) / (permutations + 1.0);
    }
}

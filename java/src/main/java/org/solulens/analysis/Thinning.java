package org.solulens.analysis;

import java.util.BitSet;
import java.util.stream.IntStream;

/**
 * How a cloud too large to draw is thinned: one point in k, evenly, and the points with the largest |x| and the largest
 * |y|, so that the outliers a reader asks about stay. The studies thin their clouds this way before drawing them, and
 * the interactive report thins any chart that is still too large the same way.
 */
public final class Thinning {
    /** Points kept by largest |x|, and again by largest |y|. */
    public static final int EXTREMES = 500;

    private Thinning() {}

    /** @return the k that keeps about {@code max} of {@code total} points (1: all of them) */
    public static int step(long total, int max) {
        return (int) Math.max(1, (total + max - 1) / max);
    }

    /**
     * The indices of the points kept, in order: all of them for {@code step == 1}; otherwise every {@code step}-th and
     * the {@link #EXTREMES} with the largest finite |x| and |y|.
     *
     * @param x the points' x values
     * @param y their y values, as many
     * @param step from {@link #step}
     * @return the kept indices, ascending
     */
    public static int[] kept(double[] x, double[] y, int step) {
        int n = x.length;
        if (step <= 1) {
            return IntStream.range(0, n).toArray();
        }
        BitSet keep = new BitSet(n);
        for (int i = 0; i < n; i += step) {
            keep.set(i);
        }
        for (double[] axis : new double[][] {x, y}) {
            IntStream.range(0, n).filter(i -> Double.isFinite(axis[i])).boxed()
                    .sorted((a, b) -> Double.compare(Math.abs(axis[b]), Math.abs(axis[a]))).limit(EXTREMES).forEach(keep::set);
        }
        return keep.stream().toArray();
    }
}

package org.solulens.analysis;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A figure as data: what to draw, not how. The library's studies describe their figures this way, and a
 * {@link FigureRenderer} (the CLI artifact's, {@code org.solulens:solulens-cli}) turns them into PNGs, so that the
 * library itself carries no plotting dependency.
 *
 * @param kind how the series are drawn
 * @param title the title above the plot
 * @param xLabel the horizontal axis's label
 * @param yLabel the vertical axis's label
 * @param series the data, by name, in legend (and drawing) order
 * @param reference a horizontal reference line, or null
 */
public record Figure(Kind kind, String title, String xLabel, String yLabel, Series series, Reference reference) {
    /** How a figure's series are drawn. */
    public enum Kind {
        /** connected points, one line per series */
        LINES,
        /** unconnected points; later series are drawn over earlier ones */
        SCATTER,
        /** bars at the x values (bin centres) with the y values (counts) as heights; one series */
        BARS
    }

    /**
     * A horizontal reference line across the data's x range, drawn dashed.
     *
     * @param name its legend entry
     * @param y its height
     */
    public record Reference(String name, double y) {}

    /** Checks the figure: every series has as many y values as x values. */
    public Figure {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(series, "series");
        for (Map.Entry<String, double[][]> e : series.data().entrySet()) {
            if (e.getValue()[0].length != e.getValue()[1].length) {
                throw new IllegalArgumentException("series '" + e.getKey() + "' of figure '" + title + "' has " + e.getValue()[0].length
                        + " x values and " + e.getValue()[1].length + " y values; expected as many of each");
            }
        }
    }

    /**
     * A histogram as bars: {@code values} counted in {@code bins} equal-width bins from their minimum to their maximum
     * (the maximum falls in the last bin), one bar per bin at its centre.
     *
     * @param title the title
     * @param xLabel what the values are
     * @param values the values to count; non-finite values are not counted
     * @param bins how many bins, at least 1
     * @return the figure
     */
    public static Figure histogram(String title, String xLabel, double[] values, int bins) {
        if (bins < 1) {
            throw new IllegalArgumentException("a histogram needs at least 1 bin, got " + bins);
        }
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (!(min <= max)) {
            min = 0;
            max = 1;
        } else if (!(max > min)) {
            max = min + 1;
        }
        double width = (max - min) / bins;
        double[] centres = new double[bins], counts = new double[bins];
        for (int b = 0; b < bins; b++) {
            centres[b] = min + (b + 0.5) * width;
        }
        for (double v : values) {
            if (Double.isFinite(v)) {
                counts[Math.min(bins - 1, (int) ((v - min) / width))]++;
            }
        }
        return new Figure(Kind.BARS, title, xLabel, "count", new Series().add("count", centres, counts), null);
    }

    /** Named (x, y) series; insertion order is legend order and drawing order (put a highlighted set last). */
    public static final class Series {
        private final Map<String, double[][]> data = new LinkedHashMap<>();

        /** Creates an empty set of series. */
        public Series() {}

        /**
         * Adds one series.
         *
         * @param name its legend entry
         * @param x its x values
         * @param y its y values, as many as x
         * @return this
         */
        public Series add(String name, double[] x, double[] y) {
            data.put(name, new double[][] {x, y});
            return this;
        }

        /** @return the series by name, each as {x, y}, in insertion order */
        public Map<String, double[][]> data() {
            return Collections.unmodifiableMap(data);
        }

        /** @return the largest finite |x| of every series (0 when there is none) */
        public double largestAbsX() {
            return largestAbs(0);
        }

        /** @return the largest finite |y| of every series (0 when there is none) */
        public double largestAbsY() {
            return largestAbs(1);
        }

        private double largestAbs(int axis) {
            double largest = 0;
            for (double[][] xy : data.values()) {
                for (double v : xy[axis]) {
                    largest = Double.isFinite(v) ? Math.max(largest, Math.abs(v)) : largest;
                }
            }
            return largest;
        }
    }
}

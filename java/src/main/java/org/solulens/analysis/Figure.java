package org.solulens.analysis;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A figure as data: what to draw, not how. The library's studies describe their figures this way, and a
 * {@link FigureRenderer} (the CLI artifact's, {@code org.solulens:solulens-cli}) turns them into PNGs, so that the
 * library itself carries no plotting dependency; the CLI's interactive report draws the same object, so the PNG and the
 * chart cannot disagree. Besides the values, a figure can say what each point is ({@link Series#describe}), its interval
 * ({@link Series#interval}), where a click on it leads ({@link Series#link}), and how an interactive chart may redraw it
 * ({@link Extras}).
 *
 * @param kind how the series are drawn
 * @param title the title above the plot
 * @param xLabel the horizontal axis's label
 * @param yLabel the vertical axis's label
 * @param series the data, by name, in legend (and drawing) order
 * @param reference a horizontal reference line, or null
 * @param extras categories, axis options and a note; never null
 */
public record Figure(Kind kind, String title, String xLabel, String yLabel, Series series, Reference reference, Extras extras) {
    /** How a figure's series are drawn. */
    public enum Kind {
        /** connected points, one line per series */
        LINES,
        /** unconnected points; later series are drawn over earlier ones */
        SCATTER,
        /** bars at the x values (bin centres) with the y values (counts) as heights; one series */
        BARS,
        /**
         * a categorical comparison: x values are category indices 0..k-1 named by {@link Extras#categories}, each series
         * one bar per category (grouped side by side), with its {@link Series#interval} as error bars
         */
        CATEGORY_BARS
    }

    /**
     * How an interactive chart may present a figure beyond its values (a PNG ignores what it cannot draw).
     *
     * @param categories the category names of a {@link Kind#CATEGORY_BARS} figure (index = x value), else empty
     * @param symlogX whether the x axis offers a symmetric-log scale (heavy-tailed signed values, e.g. Δloss)
     * @param symlogY whether the y axis offers a symmetric-log scale
     * @param alternativeY if not null, the chart offers to plot each series' {@link Series#alternative alternative y
     *        values} instead, under this axis label (e.g. LayerNorm's factor 1/scale beside the scale)
     * @param alternativeReference the reference line's height on the alternative axis (NaN: none there)
     * @param note what the reader should know about the drawing (e.g. that points were sampled), or null
     */
    public record Extras(List<String> categories, boolean symlogX, boolean symlogY, String alternativeY, double alternativeReference, String note) {
        /** No categories, linear axes, no alternative, no note. */
        public static final Extras NONE = new Extras(List.of(), false, false, null, Double.NaN, null);

        /** Copies the categories. */
        public Extras {
            categories = List.copyOf(categories);
        }
    }

    /** A figure without {@link Extras}. */
    public Figure(Kind kind, String title, String xLabel, String yLabel, Series series, Reference reference) {
        this(kind, title, xLabel, yLabel, series, reference, Extras.NONE);
    }

    /** @return this figure as a categorical bar chart over {@code categories} (x values are their indices) */
    public Figure withCategories(List<String> categories) {
        return new Figure(Kind.CATEGORY_BARS, title, xLabel, yLabel, series, reference,
                new Extras(categories, extras.symlogX(), extras.symlogY(), extras.alternativeY(), extras.alternativeReference(), extras.note()));
    }

    /** @return this figure with a symmetric-log option on the x and/or y axis */
    public Figure withSymlog(boolean x, boolean y) {
        return new Figure(kind, title, xLabel, yLabel, series, reference,
                new Extras(extras.categories(), x, y, extras.alternativeY(), extras.alternativeReference(), extras.note()));
    }

    /**
     * @param label the axis label of the series' alternative y values
     * @param reference the reference line's height on that axis, or NaN
     * @return this figure with the option of drawing the alternative y values
     */
    public Figure withAlternativeY(String label, double reference) {
        return new Figure(kind, title, xLabel, yLabel, series, reference(),
                new Extras(extras.categories(), extras.symlogX(), extras.symlogY(), label, reference, extras.note()));
    }

    /** @return this figure with a note for the reader (shown under an interactive chart) */
    public Figure withNote(String note) {
        return new Figure(kind, title, xLabel, yLabel, series, reference,
                new Extras(extras.categories(), extras.symlogX(), extras.symlogY(), extras.alternativeY(), extras.alternativeReference(), note));
    }

    /**
     * A horizontal reference line across the data's x range, drawn dashed.
     *
     * @param name its legend entry
     * @param y its height
     */
    public record Reference(String name, double y) {}

    /** Checks the figure: every series has as many y values as x values; a categorical figure's x values name categories. */
    public Figure {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(series, "series");
        Objects.requireNonNull(extras, "extras");
        if (kind == Kind.CATEGORY_BARS) {
            for (Map.Entry<String, double[][]> e : series.data().entrySet()) {
                for (double x : e.getValue()[0]) {
                    if (!(x >= 0 && x < extras.categories().size() && x == Math.rint(x))) {
                        throw new IllegalArgumentException("series '" + e.getKey() + "' of figure '" + title + "' has x = " + x
                                + "; a categorical figure's x values are category indices 0.." + (extras.categories().size() - 1));
                    }
                }
            }
        }
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

    /**
     * Named (x, y) series; insertion order is legend order and drawing order (put a highlighted set last). Each series may
     * also carry, per point, named descriptions (what the point is), an interval and a link.
     */
    public static final class Series {
        private final Map<String, double[][]> data = new LinkedHashMap<>();
        private final Map<String, Map<String, String[]>> descriptions = new LinkedHashMap<>();
        private final Map<String, double[][]> intervals = new LinkedHashMap<>();
        private final Map<String, String[]> links = new LinkedHashMap<>();
        private final Map<String, double[]> alternatives = new LinkedHashMap<>();
        private final java.util.Set<String> unconnected = new java.util.HashSet<>();

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

        /**
         * Says what each point of a series is, under a column name (e.g. "token", "neuron"); shown when the point is
         * hovered in an interactive chart. Text from a model or corpus may be anything: renderers escape it.
         *
         * @param name the series, already added
         * @param column the description's name
         * @param values one per point
         * @return this
         */
        public Series describe(String name, String column, String[] values) {
            perPoint(name, "description '" + column + "'", values.length);
            descriptions.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(column, values.clone());
            return this;
        }

        /** Says what each point is, as integers (positions, neuron indices); see {@link #describe(String, String, String[])}. @return this */
        public Series describe(String name, String column, int[] values) {
            String[] text = new String[values.length];
            for (int i = 0; i < values.length; i++) {
                text[i] = Integer.toString(values[i]);
            }
            return describe(name, column, text);
        }

        /**
         * Gives each point of a series an interval (e.g. a bootstrap confidence interval), drawn as error bars or a band.
         *
         * @param name the series, already added
         * @param lo the lower ends, one per point
         * @param hi the upper ends, one per point
         * @return this
         */
        public Series interval(String name, double[] lo, double[] hi) {
            perPoint(name, "interval's lower end", lo.length);
            perPoint(name, "interval's upper end", hi.length);
            intervals.put(name, new double[][] {lo.clone(), hi.clone()});
            return this;
        }

        /**
         * Gives each point a page that a click on it opens (relative to the report; null where a point has none).
         *
         * @param name the series, already added
         * @param hrefs one per point
         * @return this
         */
        public Series link(String name, String[] hrefs) {
            perPoint(name, "link", hrefs.length);
            links.put(name, hrefs.clone());
            return this;
        }

        /**
         * Gives a series other y values that an interactive chart may plot instead (see {@link Figure#withAlternativeY}).
         *
         * @param name the series, already added
         * @param y one per point
         * @return this
         */
        public Series alternative(String name, double[] y) {
            perPoint(name, "alternative y", y.length);
            alternatives.put(name, y.clone());
            return this;
        }

        /**
         * Draws a series of a {@link Kind#LINES} figure as unconnected points: its points are not a sequence (e.g. unrelated
         * prompts of equal length).
         *
         * @param name the series, already added
         * @return this
         */
        public Series unconnected(String name) {
            if (!data.containsKey(name)) {
                throw new IllegalArgumentException("no series '" + name + "' to draw as points; add the series first (has: " + data.keySet() + ")");
            }
            unconnected.add(name);
            return this;
        }

        /** @return whether a series' points are joined by lines in a {@link Kind#LINES} figure */
        public boolean connected(String name) {
            return !unconnected.contains(name);
        }

        /** @return per series, its alternative y values (only series that have them) */
        public Map<String, double[]> alternatives() {
            return Collections.unmodifiableMap(alternatives);
        }

        private void perPoint(String name, String what, int length) {
            double[][] xy = data.get(name);
            if (xy == null) {
                throw new IllegalArgumentException("no series '" + name + "' to give a " + what + "; add the series first (has: " + data.keySet() + ")");
            }
            if (length != xy[0].length) {
                throw new IllegalArgumentException("series '" + name + "' has " + xy[0].length + " points but its " + what + " has "
                        + length + " values; expected one per point");
            }
        }

        /** @return per series, its descriptions by column name (only series that have any) */
        public Map<String, Map<String, String[]>> descriptions() {
            return Collections.unmodifiableMap(descriptions);
        }

        /** @return per series, its intervals as {lo, hi} (only series that have them) */
        public Map<String, double[][]> intervals() {
            return Collections.unmodifiableMap(intervals);
        }

        /** @return per series, its points' links (only series that have them) */
        public Map<String, String[]> links() {
            return Collections.unmodifiableMap(links);
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

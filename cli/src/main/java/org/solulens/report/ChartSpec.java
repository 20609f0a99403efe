package org.solulens.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.solulens.analysis.Figure;

/**
 * A {@link Figure} as the JSON that the report's script draws: the same values the PNG is drawn from, with each point's
 * descriptions, interval and link. A figure with more points than {@link #MAX_POINTS} is thinned evenly (every k-th point
 * of each series) so that the page stays responsive, and the chart says so.
 */
final class ChartSpec {
    /** Beyond this many points in one chart, every series is thinned evenly. */
    static final int MAX_POINTS = 30_000;

    private ChartSpec() {}

    /**
     * The figure as JSON, safe to place inside a {@code <script type="application/json">} element: {@code <}, {@code >}
     * and {@code &} appear only as JSON escapes, so no text from a model or corpus can end the element.
     *
     * @param figure the figure
     * @param png the PNG drawn from the same figure, relative to the page
     * @return the JSON text
     */
    static String json(Figure figure, String png) {
        int total = 0;
        for (double[][] xy : figure.series().data().values()) {
            total += xy[0].length;
        }
        int step = Math.max(1, (total + MAX_POINTS - 1) / MAX_POINTS);
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", figure.kind().name());
        spec.put("title", figure.title());
        spec.put("xLabel", figure.xLabel());
        spec.put("yLabel", figure.yLabel());
        spec.put("png", png);
        if (figure.reference() != null) {
            spec.put("reference", Map.of("name", figure.reference().name(), "y", figure.reference().y()));
        }
        Figure.Extras extras = figure.extras();
        spec.put("categories", extras.categories());
        spec.put("symlogX", extras.symlogX());
        spec.put("symlogY", extras.symlogY());
        spec.put("alternativeY", extras.alternativeY());
        spec.put("alternativeReference", Double.isFinite(extras.alternativeReference()) ? extras.alternativeReference() : null);
        List<String> notes = new ArrayList<>();
        if (extras.note() != null) {
            notes.add(extras.note());
        }
        if (step > 1) {
            notes.add(String.format(Locale.ROOT, "Showing every %d%s point of each series (%,d of %,d) so that the page stays responsive; "
                    + "the PNG and the tables have them all.", step, ordinalSuffix(step), countShown(figure, step), total));
        }
        spec.put("notes", notes);
        List<Map<String, Object>> series = new ArrayList<>();
        Figure.Series s = figure.series();
        for (Map.Entry<String, double[][]> e : s.data().entrySet()) {
            String name = e.getKey();
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", name);
            one.put("x", values(e.getValue()[0], step));
            one.put("y", values(e.getValue()[1], step));
            double[][] interval = s.intervals().get(name);
            if (interval != null) {
                one.put("lo", values(interval[0], step));
                one.put("hi", values(interval[1], step));
            }
            one.put("connected", s.connected(name));
            double[] alternative = s.alternatives().get(name);
            if (alternative != null) {
                one.put("alt", values(alternative, step));
            }
            String[] links = s.links().get(name);
            if (links != null) {
                one.put("links", texts(links, step));
            }
            Map<String, String[]> described = s.descriptions().getOrDefault(name, Map.of());
            one.put("columns", new ArrayList<>(described.keySet()));
            List<List<String>> columnValues = new ArrayList<>();
            for (String[] column : described.values()) {
                columnValues.add(texts(column, step));
            }
            one.put("values", columnValues);
            series.add(one);
        }
        spec.put("series", series);
        try {
            return new ObjectMapper().writeValueAsString(spec).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a figure's values could not be written as JSON: " + e.getMessage(), e);
        }
    }

    private static int countShown(Figure figure, int step) {
        int shown = 0;
        for (double[][] xy : figure.series().data().values()) {
            shown += (xy[0].length + step - 1) / step;
        }
        return shown;
    }

    private static String ordinalSuffix(int n) {
        return n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
    }

    /** Every {@code step}-th value; non-finite values become null (a gap in the chart), floats keep the JSON short. */
    private static List<Float> values(double[] v, int step) {
        List<Float> out = new ArrayList<>((v.length + step - 1) / step);
        for (int i = 0; i < v.length; i += step) {
            float f = (float) v[i];
            out.add(Float.isFinite(f) ? f : null);
        }
        return out;
    }

    private static List<String> texts(String[] v, int step) {
        List<String> out = new ArrayList<>((v.length + step - 1) / step);
        for (int i = 0; i < v.length; i += step) {
            out.add(v[i]);
        }
        return out;
    }
}

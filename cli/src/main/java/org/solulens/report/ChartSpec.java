package org.solulens.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.solulens.analysis.Figure;
import org.solulens.analysis.Thinning;

/**
 * A {@link Figure} as the JSON that the report's script draws: the same values the PNG is drawn from, with each point's
 * descriptions, interval and link. A figure with more points than {@link #MAX_POINTS} is thinned so that the page stays
 * responsive, as {@link Thinning} says (one point in k of each series and its largest |x| and |y|), and the chart says so.
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
        int step = Thinning.step(total, MAX_POINTS);
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
        Map<String, int[]> shown = new LinkedHashMap<>();
        int shownTotal = 0;
        for (Map.Entry<String, double[][]> e : figure.series().data().entrySet()) {
            int[] kept = Thinning.kept(e.getValue()[0], e.getValue()[1], step);
            shown.put(e.getKey(), kept);
            shownTotal += kept.length;
        }
        if (step > 1) {
            notes.add(String.format(Locale.ROOT, "Showing one point in %d of each series and its %d largest |x| and |y| (%,d of %,d points) "
                    + "so that the page stays responsive; the PNG and the tables have them all.", step, Thinning.EXTREMES, shownTotal, total));
        }
        spec.put("notes", notes);
        List<Map<String, Object>> series = new ArrayList<>();
        Figure.Series s = figure.series();
        for (Map.Entry<String, double[][]> e : s.data().entrySet()) {
            String name = e.getKey();
            int[] kept = shown.get(name);
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", name);
            one.put("x", values(e.getValue()[0], kept));
            one.put("y", values(e.getValue()[1], kept));
            double[][] interval = s.intervals().get(name);
            if (interval != null) {
                one.put("lo", values(interval[0], kept));
                one.put("hi", values(interval[1], kept));
            }
            one.put("connected", s.connected(name));
            double[] alternative = s.alternatives().get(name);
            if (alternative != null) {
                one.put("alt", values(alternative, kept));
            }
            String[] links = s.links().get(name);
            if (links != null) {
                one.put("links", texts(links, kept));
            }
            Map<String, String[]> described = s.descriptions().getOrDefault(name, Map.of());
            one.put("columns", new ArrayList<>(described.keySet()));
            List<List<String>> columnValues = new ArrayList<>();
            for (String[] column : described.values()) {
                columnValues.add(texts(column, kept));
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

    /** The kept values; non-finite values become null (a gap in the chart), floats keep the JSON short. */
    private static List<Float> values(double[] v, int[] kept) {
        List<Float> out = new ArrayList<>(kept.length);
        for (int i : kept) {
            float f = (float) v[i];
            out.add(Float.isFinite(f) ? f : null);
        }
        return out;
    }

    private static List<String> texts(String[] v, int[] kept) {
        List<String> out = new ArrayList<>(kept.length);
        for (int i : kept) {
            out.add(v[i]);
        }
        return out;
    }
}

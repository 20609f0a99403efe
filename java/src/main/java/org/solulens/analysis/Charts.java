package org.solulens.analysis;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG figures (XChart, headless): line charts, scatter plots and histograms. */
public final class Charts {
    private static final int WIDTH = 900, HEIGHT = 560;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** Named (x, y) series; insertion order is legend order. */
    public static final class Series {
        final Map<String, double[][]> data = new LinkedHashMap<>();

        public Series add(String name, double[] x, double[] y) {
            data.put(name, new double[][] {x, y});
            return this;
        }
    }

    public static void lines(Path file, String title, String xLabel, String yLabel, Series series) throws IOException {
        BitmapEncoder.saveBitmap(linesChart(title, xLabel, yLabel, series), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    static XYChart linesChart(String title, String xLabel, String yLabel, Series series) {
        XYChart chart = xy(title, xLabel, yLabel);
        for (Map.Entry<String, double[][]> e : series.data.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        ticks(chart, series);
        return chart;
    }

    /** Lines plus horizontal reference lines drawn dashed (e.g. sqrt(eps)). */
    public static void linesWithReference(Path file, String title, String xLabel, String yLabel, Series series,
                                          String referenceName, double reference) throws IOException {
        XYChart chart = xy(title, xLabel, yLabel);
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[][]> e : series.data.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            s.setMarker(SeriesMarkers.CIRCLE);
            for (double x : e.getValue()[0]) {
                xMin = Math.min(xMin, x);
                xMax = Math.max(xMax, x);
            }
        }
        XYSeries ref = chart.addSeries(referenceName, new double[] {xMin, xMax}, new double[] {reference, reference});
        ref.setMarker(SeriesMarkers.NONE);
        ref.setLineColor(Color.GRAY);
        ref.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
        ticks(chart, series);
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Series are drawn in insertion order: put a highlighted set last, so that it is drawn over the rest. */
    public static void scatter(Path file, String title, String xLabel, String yLabel, Series series) throws IOException {
        BitmapEncoder.saveBitmap(scatterChart(title, xLabel, yLabel, series), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    static XYChart scatterChart(String title, String xLabel, String yLabel, Series series) {
        XYChart chart = xy(title, xLabel, yLabel);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(4);
        for (Map.Entry<String, double[][]> e : series.data.entrySet()) {
            chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        ticks(chart, series);
        return chart;
    }

    /**
     * One tick format per axis, chosen from the data's range: "0.12" beside "0.08" (not ".08"), and scientific
     * notation when every value is tiny or huge.
     */
    static void ticks(XYChart chart, Series series) {
        double maxX = 0, maxY = 0;
        for (double[][] xy : series.data.values()) {
            for (double v : xy[0]) {
                maxX = Double.isFinite(v) ? Math.max(maxX, Math.abs(v)) : maxX;
            }
            for (double v : xy[1]) {
                maxY = Double.isFinite(v) ? Math.max(maxY, Math.abs(v)) : maxY;
            }
        }
        chart.getStyler().setXAxisDecimalPattern(pattern(maxX));
        chart.getStyler().setYAxisDecimalPattern(pattern(maxY));
    }

    static String pattern(double largest) {
        if (largest == 0) {
            return "0.###";
        }
        if (largest < 1e-3 || largest >= 1e6) {
            return "0.##E0";
        }
        return largest < 1 ? "0.0###" : largest < 100 ? "0.##" : "0";
    }

    /** A histogram of {@code values} in {@code bins} equal-width bins. */
    public static void histogram(Path file, String title, String xLabel, double[] values, int bins) throws IOException {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!(max > min)) {
            max = min + 1;
        }
        double width = (max - min) / bins;
        double[] centres = new double[bins], counts = new double[bins];
        for (int b = 0; b < bins; b++) {
            centres[b] = min + (b + 0.5) * width;
        }
        for (double v : values) {
            counts[Math.min(bins - 1, (int) ((v - min) / width))]++;
        }
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle("count").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setAvailableSpaceFill(0.95);
        chart.getStyler().setXAxisDecimalPattern("0.00");
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.addSeries("count", centres, counts);
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart xy(String title, String xLabel, String yLabel) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        // outside the plot area: inside, it hid the very points a report cites (the largest Δloss sat under it)
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        return chart;
    }
}

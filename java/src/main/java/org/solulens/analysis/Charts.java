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
        XYChart chart = xy(title, xLabel, yLabel);
        for (Map.Entry<String, double[][]> e : series.data.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
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
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    public static void scatter(Path file, String title, String xLabel, String yLabel, Series series) throws IOException {
        XYChart chart = xy(title, xLabel, yLabel);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(4);
        for (Map.Entry<String, double[][]> e : series.data.entrySet()) {
            chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
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
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        return chart;
    }
}

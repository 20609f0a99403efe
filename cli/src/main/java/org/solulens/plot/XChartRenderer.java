package org.solulens.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.solulens.analysis.Figure;
import org.solulens.analysis.FigureRenderer;

/** Draws the studies' figures as PNGs with XChart, headless (registered as the {@link FigureRenderer} service). */
public final class XChartRenderer implements FigureRenderer {
    private static final int WIDTH = 900, HEIGHT = 560;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Creates the renderer (the service loader calls this). */
    public XChartRenderer() {}

    @Override
    public void render(Figure figure, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart(figure), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** The chart for a figure, before it is drawn: its layout is what the tests check. */
    static Chart<?, ?> chart(Figure figure) {
        return switch (figure.kind()) {
            case BARS -> bars(figure);
            case CATEGORY_BARS -> categories(figure);
            default -> xy(figure);
        };
    }

    private static XYChart xy(Figure figure) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(figure.title()).xAxisTitle(figure.xLabel()).yAxisTitle(figure.yLabel()).build();
        // outside the plot area: inside, it hid the very points a report cites (the largest Δloss sat under it)
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        if (figure.kind() == Figure.Kind.SCATTER) {
            chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            chart.getStyler().setMarkerSize(4);
        }
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, double[][]> e : figure.series().data().entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            if (figure.kind() == Figure.Kind.LINES) {
                s.setMarker(SeriesMarkers.CIRCLE);
                if (!figure.series().connected(e.getKey())) {
                    s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                }
            }
            for (double x : e.getValue()[0]) {
                xMin = Math.min(xMin, x);
                xMax = Math.max(xMax, x);
            }
        }
        if (figure.reference() != null && xMin <= xMax) {
            double y = figure.reference().y();
            XYSeries ref = chart.addSeries(figure.reference().name(), new double[] {xMin, xMax}, new double[] {y, y});
            ref.setMarker(SeriesMarkers.NONE);
            ref.setLineColor(Color.GRAY);
            ref.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
        }
        // one tick format per axis, chosen from the data's range: "0.12" beside "0.08" (not ".08")
        chart.getStyler().setXAxisDecimalPattern(pattern(figure.series().largestAbsX()));
        chart.getStyler().setYAxisDecimalPattern(pattern(figure.series().largestAbsY()));
        return chart;
    }

    private static CategoryChart bars(Figure figure) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(figure.title()).xAxisTitle(figure.xLabel()).yAxisTitle(figure.yLabel()).build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setAvailableSpaceFill(0.95);
        chart.getStyler().setXAxisDecimalPattern(pattern(figure.series().largestAbsX()));
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        for (Map.Entry<String, double[][]> e : figure.series().data().entrySet()) {
            chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        return chart;
    }

    /** Grouped bars over named categories (the intervals are drawn by the interactive report only: XChart's error bars are symmetric). */
    private static CategoryChart categories(Figure figure) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(figure.title()).xAxisTitle(figure.xLabel()).yAxisTitle(figure.yLabel()).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisDecimalPattern(pattern(figure.series().largestAbsY()));
        for (Map.Entry<String, double[][]> e : figure.series().data().entrySet()) {
            java.util.List<String> names = new java.util.ArrayList<>();
            java.util.List<Double> heights = new java.util.ArrayList<>();
            for (int i = 0; i < e.getValue()[0].length; i++) {
                names.add(figure.extras().categories().get((int) e.getValue()[0][i]));
                heights.add(e.getValue()[1][i]);
            }
            chart.addSeries(e.getKey(), names, heights);
        }
        return chart;
    }

    /** A decimal pattern for an axis whose largest |value| is {@code largest}; scientific when all are tiny or huge. */
    static String pattern(double largest) {
        if (largest == 0) {
            return "0.###";
        }
        if (largest < 1e-3 || largest >= 1e6) {
            return "0.##E0";
        }
        return largest < 1 ? "0.0###" : largest < 100 ? "0.##" : "0";
    }
}

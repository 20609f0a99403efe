package org.solulens.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.solulens.analysis.Figure;
import org.solulens.analysis.Figures;

/** Figures show their data: the legend sits outside the plot area, and one tick format per axis fits the data. */
class XChartRendererTest {
    @TempDir
    Path tmp;

    @Test
    void legendsAreOutsideThePlotAndTicksHaveOneFormatEvenWithAnExtremePoint() throws Exception {
        double[] x = {-2, -1, 0, 0.5, 6.65}, y = {0.02, 0.08, 0.12, 0.05, 6.65};   // one extreme point, top right
        Figure.Series series = new Figure.Series().add("all", x, y).add("highlighted", new double[] {6.65}, new double[] {6.65});
        for (Figure.Kind kind : new Figure.Kind[] {Figure.Kind.SCATTER, Figure.Kind.LINES}) {
            XYChart chart = (XYChart) XChartRenderer.chart(new Figure(kind, "t", "x", "y", series, null));
            assertEquals(Styler.LegendPosition.OutsideE, chart.getStyler().getLegendPosition(), "the legend must not cover data");
            assertEquals("0.##", chart.getStyler().getYAxisDecimalPattern());
            assertEquals(List.of("all", "highlighted"), chart.getSeriesCollection().stream().map(XYSeries::getName).toList(),
                    "the highlighted set is drawn last");
        }
        assertEquals("0.0###", XChartRenderer.pattern(0.12));
        assertEquals("0.##E0", XChartRenderer.pattern(3e-5));
    }

    @Test
    void theCliArtifactRegistersItAsTheLibrarysRenderer() throws Exception {
        assertTrue(Figures.available(), "the service file registers XChartRenderer");
        Path png = tmp.resolve("scatter.png");
        assertTrue(Figures.scatter(png, "t", "x", "y", new Figure.Series().add("a", new double[] {1, 2}, new double[] {3, 4})));
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "a PNG was written");
    }

    @Test
    void categoriesAreNamedBarsAndUnconnectedSeriesArePoints() {
        Figure.Series bars = new Figure.Series().add("solu", new double[] {0, 1, 2}, new double[] {0.01, -0.02, 0.6})
                .interval("solu", new double[] {0, -0.05, 0.4}, new double[] {0.02, 0.01, 0.8});
        org.knowm.xchart.CategoryChart chart = (org.knowm.xchart.CategoryChart) XChartRenderer.chart(
                new Figure(Figure.Kind.LINES, "t", "set", "y", bars, null).withCategories(List.of("lowest", "random", "highest")));
        assertEquals(List.of("lowest", "random", "highest"), List.copyOf(chart.getSeries("solu").getXData()));
        Figure.Series lines = new Figure.Series().add("sentences", new double[] {5, 5, 7}, new double[] {1, 2, 3}).unconnected("sentences")
                .add("repeat", new double[] {2, 3, 4}, new double[] {1, 2, 3});
        XYChart xy = (XYChart) XChartRenderer.chart(new Figure(Figure.Kind.LINES, "t", "x", "y", lines, null));
        assertEquals(java.util.Optional.of(XYSeries.XYSeriesRenderStyle.Scatter), xy.getSeries("sentences").getXYSeriesRenderStyle());
        assertEquals(java.util.Optional.of(XYSeries.XYSeriesRenderStyle.Line), xy.getSeries("repeat").getXYSeriesRenderStyle(), "a sequence is a line");
    }
}

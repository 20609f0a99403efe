package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.Styler;

/** Figures show their data: the legend sits outside the plot area, and one tick format per axis fits the data. */
class ChartsTest {
    @TempDir
    Path tmp;

    @Test
    void legendsAreOutsideThePlotAndTicksHaveOneFormatEvenWithAnExtremePoint() throws Exception {
        double[] x = {-2, -1, 0, 0.5, 6.65}, y = {0.02, 0.08, 0.12, 0.05, 6.65};   // one extreme point, top right
        Charts.Series series = new Charts.Series().add("all", x, y).add("highlighted", new double[] {6.65}, new double[] {6.65});
        for (XYChart chart : new XYChart[] {Charts.scatterChart("t", "x", "y", series), Charts.linesChart("t", "x", "y", series)}) {
            assertEquals(Styler.LegendPosition.OutsideE, chart.getStyler().getLegendPosition(), "the legend must not cover data");
            assertEquals("0.##", chart.getStyler().getYAxisDecimalPattern());
            var names = chart.getSeriesCollection().stream().map(org.knowm.xchart.XYSeries::getName).toList();
            assertEquals(java.util.List.of("all", "highlighted"), names, "the highlighted set is drawn last");
        }
        assertEquals("0.0###", Charts.pattern(0.12));
        assertEquals("0.##E0", Charts.pattern(3e-5));
        Path png = tmp.resolve("scatter.png");
        Charts.scatter(png, "t", "x", "y", series);
        assertTrue(Files.size(png) > 1000);
    }
}

package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Figures as data: the library bins and checks them, and without a renderer (no CLI artifact) draws nothing. */
class FigureTest {
    @TempDir
    Path tmp;

    @Test
    void histogramCountsEveryFiniteValueInItsBin() {
        Random random = new Random(41);
        double[] values = new double[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        values[7] = Double.NaN;
        Figure f = Figure.histogram("t", "x", values, 10);
        double[][] bars = f.series().data().get("count");
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (!Double.isNaN(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double[] expected = new double[10];
        for (double v : values) {
            if (!Double.isNaN(v)) {
                int b = (int) Math.floor((v - min) / ((max - min) / 10));   // the top value belongs to the last bin
                expected[Math.min(9, b)]++;
            }
        }
        assertArrayEquals(expected, bars[1]);
        assertTrue(Math.abs(bars[0][0] - (min + (max - min) / 20)) < 1e-12, "bars sit at bin centres");
    }

    @Test
    void seriesOfUnequalLengthsAreRefusedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Figure(Figure.Kind.SCATTER, "t", "x", "y",
                new Figure.Series().add("broken", new double[2], new double[3]), null));
        assertTrue(e.getMessage().contains("'broken'"), e.getMessage());
    }

    @Test
    void withoutARendererOnTheClassPathNothingIsDrawn() throws Exception {
        assertFalse(Figures.available(), "the library module's tests run without the CLI artifact");
        Path png = tmp.resolve("f.png");
        assertFalse(Figures.scatter(png, "t", "x", "y", new Figure.Series().add("a", new double[] {1}, new double[] {2})));
        assertFalse(Files.exists(png));
    }
}

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

    @Test
    void perPointDataMustMatchItsSeries() {
        Random random = new Random(3);
        double[] x = random.doubles(4).toArray(), y = random.doubles(4).toArray();
        Figure.Series s = new Figure.Series().add("a", x, y);
        var e = assertThrows(IllegalArgumentException.class, () -> s.describe("a", "token", new String[] {"x", "y", "z"}));
        assertTrue(e.getMessage().contains("series 'a' has 4 points but its description 'token' has 3 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.interval("b", x, y));
        assertTrue(e.getMessage().contains("no series 'b'") && e.getMessage().contains("[a]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.link("a", new String[5]));
        assertTrue(e.getMessage().contains("its link has 5 values"), e.getMessage());
        s.describe("a", "neuron", new int[] {4, 3, 2, 1}).interval("a", x, y).alternative("a", y).unconnected("a");
        assertArrayEquals(new String[] {"4", "3", "2", "1"}, s.descriptions().get("a").get("neuron"));
        assertFalse(s.connected("a"));
    }

    @Test
    void aCategoricalFigureNamesEveryXValue() {
        Figure.Series s = new Figure.Series().add("a", new double[] {0, 1, 3}, new double[] {1, 2, 3});
        Figure f = new Figure(Figure.Kind.LINES, "t", "x", "y", s, null);
        var e = assertThrows(IllegalArgumentException.class, () -> f.withCategories(java.util.List.of("low", "random", "high")));
        assertTrue(e.getMessage().contains("has x = 3.0; a categorical figure's x values are category indices 0..2"), e.getMessage());
        Figure ok = f.withCategories(java.util.List.of("a", "b", "c", "d")).withSymlog(false, true).withNote("n");
        assertTrue(ok.kind() == Figure.Kind.CATEGORY_BARS && ok.extras().symlogY() && ok.extras().note().equals("n"));
    }

    @Test
    void aRecordingHoldsTheFiguresDrawnWhileItIsOpen() throws Exception {
        Figure.Series s = new Figure.Series().add("a", new double[] {1}, new double[] {2});
        Figures.scatter(tmp.resolve("before.png"), "t", "x", "y", s);
        try (Figures.Recording r = Figures.record()) {
            Figures.scatter(tmp.resolve("one.png"), "t", "x", "y", s);
            Thread other = new Thread(() -> {
                try {
                    Figures.scatter(tmp.resolve("other-thread.png"), "t", "x", "y", s);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            other.start();
            other.join();
            assertTrue(r.drawn().size() == 1 && r.drawn().get(0).file().equals(tmp.resolve("one.png")), r.drawn().toString());
        }
        try (Figures.Recording r = Figures.record()) {
            assertTrue(r.drawn().isEmpty());
        }
    }
}

package org.solulens.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.testing.Gen;

/**
 * Merging the statistics of any split of a window sequence, in any order, equals folding the sequence: the lists
 * exactly, every statistic to 1e-12 relative. Seeded: each case names its seed.
 */
class CorpusStatsMergeTest {
    private static final int NEURONS = 6, K = 3;
    private static final double THRESHOLD = 0.05;

    static LongStream seeds() {
        return Gen.seeds().limit(Math.max(1, Gen.TRIES / 5));
    }

    /** Windows with random Δloss and activations; values from a small set half the time, so that ties are common. */
    private static List<double[][]> windowData(Gen g, List<Window> windows) {
        List<double[][]> data = new ArrayList<>();
        for (Window w : windows) {
            int P = w.tokens().length - 1;
            double[] delta = new double[P * NEURONS], activation = new double[(P + 1) * NEURONS], whole = new double[P];
            boolean ties = g.chance(1, 2);
            for (int i = 0; i < delta.length; i++) {
                delta[i] = ties ? g.of(-0.5, 0.0, 0.25, 1.0) : (g.between(-1_000_000, 1_000_000) / 1e6) * Math.pow(10, g.between(-7, 1));
            }
            for (int i = 0; i < activation.length; i++) {
                activation[i] = ties ? g.of(0.0, 0.5) : g.between(-1_000_000, 3_000_000) / 1e6;
            }
            for (int p = 0; p < P; p++) {
                whole[p] = g.between(-2_000_000, 2_000_000) / 1e6;
            }
            data.add(new double[][] {delta, activation, whole});
        }
        return data;
    }

    private static List<Window> windows(Gen g) {
        List<Window> out = new ArrayList<>();
        int n = g.between(1, 14);
        for (int i = 0; i < n; i++) {
            int length = g.between(2, 12);
            int[] tokens = new int[length], document = new int[length], position = new int[length];
            for (int t = 0; t < length; t++) {
                tokens[t] = g.between(0, 50);
                document[t] = t == 0 ? -1 : i;
                position[t] = t == 0 ? -1 : t - 1;
            }
            out.add(new Window(i, tokens, document, position));
        }
        return out;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void mergingAnySplitInAnyOrderEqualsOneFold(long seed) {
        Gen g = new Gen(seed);
        List<Window> windows = windows(g);
        List<double[][]> data = windowData(g, windows);
        CorpusStats folded = new CorpusStats(NEURONS, K, THRESHOLD);
        for (int i = 0; i < windows.size(); i++) {
            folded.add(windows.get(i), data.get(i)[0], data.get(i)[1], data.get(i)[2]);
        }
        // cut points: empty parts allowed, as a partition without windows gives
        List<Integer> cuts = new ArrayList<>(List.of(0, windows.size()));
        for (int c = g.between(0, 5); c > 0; c--) {
            cuts.add(g.between(0, windows.size()));
        }
        Collections.sort(cuts);
        List<CorpusStats> parts = new ArrayList<>();
        for (int c = 0; c + 1 < cuts.size(); c++) {
            CorpusStats part = new CorpusStats(NEURONS, K, THRESHOLD);
            for (int i = cuts.get(c); i < cuts.get(c + 1); i++) {
                part.add(windows.get(i), data.get(i)[0], data.get(i)[1], data.get(i)[2]);
            }
            parts.add(g.chance(1, 2) ? CorpusStats.fromBytes(part.toBytes()) : part);   // as a part travels between processes
        }
        Collections.shuffle(parts, new Random(seed));
        CorpusStats merged = new CorpusStats(NEURONS, K, THRESHOLD);
        for (CorpusStats part : parts) {
            merged.merge(part);
        }
        assertSame(folded, merged, "seed " + seed + ", cuts " + cuts);
    }

    @Test
    void statisticsOfAnotherShapeAreRefused() {
        CorpusStats a = new CorpusStats(NEURONS, K, THRESHOLD);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new CorpusStats(NEURONS + 1, K, THRESHOLD)));
        assertThrows(IllegalArgumentException.class, () -> a.merge(new CorpusStats(NEURONS, K + 1, THRESHOLD)));
        assertThrows(IllegalArgumentException.class, () -> a.merge(new CorpusStats(NEURONS, K, THRESHOLD * 2)));
        assertThrows(IllegalArgumentException.class, () -> CorpusStats.fromBytes(new byte[] {1, 2, 3}));
    }

    private static void assertSame(CorpusStats a, CorpusStats b, String where) {
        assertEquals(a.windows(), b.windows(), where);
        assertEquals(a.positions(), b.positions(), where);
        for (int n = 0; n < NEURONS; n++) {
            String at = where + ", neuron " + n;
            close(a.mean(n), b.mean(n), at + " mean");
            close(a.meanAbs(n), b.meanAbs(n), at + " mean |Δ|");
            close(a.std(n), b.std(n), at + " std");
            close(a.activationMean(n), b.activationMean(n), at + " activation mean");
            close(a.correlation(n), b.correlation(n), at + " correlation");
            assertEquals(a.min(n), b.min(n), at);
            assertEquals(a.max(n), b.max(n), at);
            assertEquals(a.activationMax(n), b.activationMax(n), at);
            assertEquals(a.fractionAbove(n), b.fractionAbove(n), at);
            assertArrayEquals(a.histogram(n), b.histogram(n), at);
            sameExamples(a.top(n), b.top(n), at + " top");
            sameExamples(a.bottom(n), b.bottom(n), at + " bottom");
            sameExamples(a.mostActive(n), b.mostActive(n), at + " most active");
        }
        close(a.wholeMean(), b.wholeMean(), where + " whole mean");
        close(a.wholeMeanAbs(), b.wholeMeanAbs(), where + " whole mean |Δ|");
        assertEquals(a.wholeMin(), b.wholeMin(), where);
        assertEquals(a.wholeMax(), b.wholeMax(), where);
        assertArrayEquals(a.wholeHistogram(), b.wholeHistogram(), where);
    }

    private static void close(double x, double y, String what) {
        if (Double.isNaN(x) || Double.isNaN(y)) {
            assertEquals(Double.isNaN(x), Double.isNaN(y), what + ": " + x + " vs " + y);
            return;
        }
        assertTrue(Math.abs(x - y) <= 1e-12 * Math.max(1e-300, Math.max(Math.abs(x), Math.abs(y))), what + ": " + x + " vs " + y);
    }

    private static void sameExamples(List<Example> a, List<Example> b, String what) {
        assertEquals(a.size(), b.size(), what);
        for (int i = 0; i < a.size(); i++) {
            Example x = a.get(i), y = b.get(i);
            String at = what + " #" + i;
            assertEquals(List.of(x.neuron(), x.window(), x.windowPosition(), x.document(), x.position(), x.contextStart()),
                    List.of(y.neuron(), y.window(), y.windowPosition(), y.document(), y.position(), y.contextStart()), at);
            assertEquals(Double.doubleToLongBits(x.delta()), Double.doubleToLongBits(y.delta()), at);
            assertEquals(Double.doubleToLongBits(x.activation()), Double.doubleToLongBits(y.activation()), at);
            assertArrayEquals(x.context(), y.context(), at);
            assertArrayEquals(x.contextDeltas(), y.contextDeltas(), at);
        }
    }
}

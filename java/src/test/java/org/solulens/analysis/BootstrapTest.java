package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bootstrap over prompts: the interval's width follows the spread, and differences are paired by prompt. */
class BootstrapTest {
    @Test
    void theIntervalOfAMeanHasTheNormalWidthAndContainsTheEstimate() {
        Random rng = new Random(17);
        int prompts = 400;
        double[] sums = new double[prompts], counts = new double[prompts];
        for (int i = 0; i < prompts; i++) {
            counts[i] = 1 + rng.nextInt(5);
            for (int p = 0; p < counts[i]; p++) {
                sums[i] += 0.3 + rng.nextGaussian();
            }
        }
        Bootstrap.Interval b = Bootstrap.meanDifference(sums, counts, null, null, 4000, 1);
        assertTrue(b.low() < b.estimate() && b.estimate() < b.high(), b.format());
        double positions = java.util.Arrays.stream(counts).sum();
        double expectedHalfWidth = 1.96 / Math.sqrt(positions);   // unit-variance values, positions independent here
        assertEquals(expectedHalfWidth, (b.high() - b.low()) / 2, 0.25 * expectedHalfWidth, b.format());
        assertTrue(Math.abs(b.estimate() - 0.3) < 3 * expectedHalfWidth, b.format());
        assertTrue(b.above0());
    }

    @Test
    void aDifferenceOfTwoMeasuresOnTheSamePromptsIsPaired() {
        Random rng = new Random(5);
        double[] a = new double[30], b = new double[30], counts = new double[30];
        for (int i = 0; i < a.length; i++) {
            counts[i] = 3;
            a[i] = 10 * rng.nextGaussian();   // a wide spread between prompts...
            b[i] = a[i] - 3 * 0.5;             // ...that the difference does not see: b is a shifted by 0.5 per position
        }
        Bootstrap.Interval d = Bootstrap.meanDifference(a, counts, b, counts, 2000, 2);
        assertEquals(0.5, d.estimate(), 1e-12);
        assertEquals(0.5, d.low(), 1e-12);
        assertEquals(0.5, d.high(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.meanDifference(a, counts, new double[2], new double[2], 200, 1));
    }
}

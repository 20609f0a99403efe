package org.solulens.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The weights' finiteness check names the first non-finite value in flat order, across its blocks and tasks. */
class FirstNonFiniteTest {
    /** SoluWeights.firstNonFinite's block. */
    private static final int BLOCK = 1 << 12;

    @Test
    void theFirstNonFiniteValueIsFoundWhereverItIs() {
        Random rng = new Random(61);
        int n = 37 * BLOCK + 1234;   // more blocks than tasks on any small machine: a task walks several
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        assertEquals(-1, SoluWeights.firstNonFinite(Tensor.of("w", new int[] {n}, v)));
        int[] places = {0, 1, BLOCK - 1, BLOCK, 5 * BLOCK + 17, 20 * BLOCK - 1, 36 * BLOCK + 3, n - 1};
        for (int first : places) {
            float[] bad = v.clone();
            bad[first] = first % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
            // later ones, in the same block, a later block of the same task and the last block
            for (int later : new int[] {first + 1, first + BLOCK + 2, n - 1}) {
                if (later > first && later < n) {
                    bad[later] = Float.POSITIVE_INFINITY;
                }
            }
            assertEquals(first, SoluWeights.firstNonFinite(Tensor.of("w", new int[] {n}, bad)), "first at " + first);
        }
    }
}

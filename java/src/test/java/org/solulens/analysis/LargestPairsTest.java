package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The summary's largest pairs, kept on the fly, against a stable sort of every pair. */
class LargestPairsTest {
    @Test
    void keepsWhatAStableSortOfEveryPairListsFirstTiesIncluded() {
        Random rng = new Random(20261207);
        for (int trial = 0; trial < 200; trial++) {
            int count = rng.nextInt(300), k = trial % 4 == 0 ? rng.nextInt(3) : rng.nextInt(40);
            SweepReport.LargestPairs largest = new SweepReport.LargestPairs(k);
            List<SweepReport.Pair> all = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                // few distinct magnitudes of both signs: many ties, which must keep the order offered
                double d = (rng.nextInt(9) - 4) * 0.25;
                if (rng.nextInt(50) == 0) {
                    d = rng.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
                }
                SweepReport.Pair p = new SweepReport.Pair(i % 3, i / 3, rng.nextInt(64), d);
                all.add(p);
                largest.offer(p.prompt(), p.position(), p.neuron(), p.delta());
            }
            all.sort(Comparator.comparingDouble((SweepReport.Pair p) -> -Math.abs(p.delta())));
            assertEquals(all.subList(0, Math.min(k, count)), largest.pairs(), "trial " + trial + ": " + count + " pairs, k " + k);
        }
    }
}

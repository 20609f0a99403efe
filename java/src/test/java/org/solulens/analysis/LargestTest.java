package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sweep's largest pairs, kept on the fly, against a stable sort of every pair. */
class LargestTest {
    @Test
    void keepsWhatAStableSortOfEveryPairListsFirstTiesIncluded() {
        Random rng = new Random(20261207);
        for (int trial = 0; trial < 200; trial++) {
            int count = rng.nextInt(300), k = trial % 4 == 0 ? rng.nextInt(3) : rng.nextInt(40);
            Largest<SweepReport.Pair> largest = new Largest<>(k);
            List<SweepReport.Pair> all = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                // few distinct magnitudes of both signs: many ties, which must keep the order offered
                double d = (rng.nextInt(9) - 4) * 0.25;
                if (rng.nextInt(50) == 0) {
                    d = rng.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
                }
                SweepReport.Pair p = new SweepReport.Pair(i % 3, i / 3, rng.nextInt(64), d);
                all.add(p);
                largest.offer(Math.abs(p.delta()), p);
            }
            all.sort(Comparator.comparingDouble((SweepReport.Pair p) -> -Math.abs(p.delta())));
            assertEquals(all.subList(0, Math.min(k, count)), largest.items(), "trial " + trial + ": " + count + " pairs, k " + k);
        }
    }
}

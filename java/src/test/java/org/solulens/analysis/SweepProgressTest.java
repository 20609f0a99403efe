package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.testing.TestModels;

/** A sweep's progress is counted in positions and moves as prompts finish on the CPU, not once at the end. */
class SweepProgressTest {
    @Test
    void theListenerHearsEveryPromptsPositionsInOrder() {
        ModelConfig cfg = TestModels.config(16, 24, 2, 8, 16, 37, ActivationFunction.SOLU_LN);
        CpuBackend backend = new CpuBackend(TestModels.random(cfg, 8));
        Random rng = new Random(8);
        List<Prompt> prompts = List.of(new Prompt("a", TestModels.randomTokens(rng, 5, 37)), new Prompt("b", TestModels.randomTokens(rng, 6, 37)),
                new Prompt("c", TestModels.randomTokens(rng, 7, 37)));
        List<long[]> heard = new ArrayList<>();
        AblationSweep.run(backend, prompts, AblationSweep.Settings.at(Ablation.Site.MID), (done, total) -> heard.add(new long[] {done, total}));
        List<Long> distinct = heard.stream().map(h -> h[0]).distinct().toList();
        assertEquals(List.of(4L, 9L, 15L), distinct, "after each prompt: 4, then 4 + 5, then 4 + 5 + 6 positions");
        assertTrue(heard.stream().allMatch(h -> h[1] == 15), "the total is every prompt's positions");
    }
}

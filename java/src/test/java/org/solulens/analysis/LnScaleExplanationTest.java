package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The answer's words follow the criterion; a run writes one row per position and one sentence per family. */
class LnScaleExplanationTest {
    @TempDir
    Path tmp;

    private static Bootstrap.Interval share(double estimate, double low) {
        return new Bootstrap.Interval(estimate, low, estimate + (estimate - low));
    }

    @Test
    void theSentenceSaysWhatTheCriterionSays() {
        double[] r = {0.6, -0.1, 0.49, -0.5, 0, 0, 0};
        String grows = LnScaleExplanation.sentence("repeat", new Bootstrap.Interval[] {share(0, 0), share(0.02, -0.1), share(0.98, 0.9)},
                new boolean[] {true, false, false}, new LnFactorMediators.Fit(0.04, 0, 0.71, 40), r);
        assertTrue(grows.startsWith("In repeat the factor grows with log(position)"), grows);
        assertTrue(grows.contains("attn_out carries the change (embed cannot change: zero by construction)"), grows);
        assertTrue(grows.contains("norm of hook_pre (r = +0.60)") && grows.contains("neurons for 90% of mass (r = -0.50)"), grows);
        assertTrue(!grows.contains("softmax top-1 share"), "|r| 0.49 is below the criterion: " + grows);

        String none = LnScaleExplanation.sentence("random-words", new Bootstrap.Interval[] {share(0.4, 0.2), share(0.3, 0.1), share(0.3, -0.2)},
                new boolean[3], new LnFactorMediators.Fit(-0.1, 0, 0.49, 40), new double[7]);
        assertTrue(none.contains("shows no logarithmic trend") && none.contains("no single component carries the change")
                && none.contains("no mediator moves with it"), none);
        String falls = LnScaleExplanation.sentence("s", new Bootstrap.Interval[] {share(0.6, 0.55), share(0.5, 0.5), share(-0.1, -0.3)},
                new boolean[3], new LnFactorMediators.Fit(-0.2, 0, 0.9, 40), new double[7]);
        assertTrue(falls.contains("falls with log(position)") && falls.contains("embed and pos_embed carry the change"), falls);
    }

    @Test
    void aRunWritesEveryPositionAndOneSentencePerFamily() throws Exception {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 12, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 13);
        Random rng = new Random(6);
        Map<String, List<Prompt>> families = new LinkedHashMap<>();
        int positions = 0;
        for (String f : new String[] {"a", "b"}) {
            List<Prompt> prompts = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int[] tokens = TestModels.randomTokens(rng, 6 + i, cfg.dVocab());
                prompts.add(new Prompt(null, tokens));
                positions += tokens.length;
            }
            families.put(f, prompts);
        }
        try (CpuBackend cpu = new CpuBackend(model)) {
            LnScaleExplanation.Result r = LnScaleExplanation.run(cpu, families, tmp, true);
            assertEquals(2, r.answers().size());
            assertEquals(positions + 1, Files.readAllLines(tmp.resolve("ln_scale_explain.csv")).size());
            String md = Files.readString(tmp.resolve("ln_scale_explain.md"));
            for (LnScaleExplanation.FamilyAnswer a : r.answers()) {
                assertTrue(md.contains(a.sentence()), a.sentence());
                assertEquals(3, a.prompts());
                // the shares of the last position add up to 1, as Shapley values do
                assertEquals(1, a.shares()[0].estimate() + a.shares()[1].estimate() + a.shares()[2].estimate(), 1e-9);
            }
        }
    }
}

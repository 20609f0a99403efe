package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Activation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.model.SoluWeights;
import org.solulens.model.Tensor;
import org.solulens.testing.TestModels;

/** Properties the forward pass must have whatever the weights. */
class ForwardPropertiesTest {
    private static final ModelConfig CFG = TestModels.config(24, 48, 3, 8, 16, 37, ActivationFunction.SOLU_LN);
    private static final SoluModel MODEL = TestModels.random(CFG, 11);

    private static ForwardResult run(int[] tokens) {
        return new CpuBackend(MODEL).run(tokens, Hooks.ALL);
    }

    @Test
    void layerNormRowsHaveMeanZeroAndVarianceOfTheInputOverScaleSquared() {
        ForwardResult r = run(TestModels.randomTokens(new Random(1), 12, CFG.dVocab()));
        check(r, Hooks.RESID_PRE, Hooks.LN1_SCALE, Hooks.LN1_NORMALIZED);
        check(r, Hooks.RESID_MID, Hooks.LN2_SCALE, Hooks.LN2_NORMALIZED);
        check(r, Hooks.MLP_MID, Hooks.MLP_LN_SCALE, Hooks.MLP_LN_NORMALIZED);
        check(r, Hooks.RESID_POST, Hooks.LN_FINAL_SCALE, Hooks.LN_FINAL_NORMALIZED);
    }

    private static void check(ForwardResult r, String input, String scale, String normalized) {
        Activation x = r.get(input), s = r.get(scale), n = r.get(normalized);
        int rows = x.shape()[0], width = x.shape()[1];
        for (int p = 0; p < rows; p++) {
            double mean = 0, var = 0, nMean = 0, nSq = 0;
            for (int i = 0; i < width; i++) {
                mean += x.at(p, i) / width;
                nMean += n.at(p, i) / width;
                nSq += n.at(p, i) * n.at(p, i) / width;
            }
            for (int i = 0; i < width; i++) {
                var += (x.at(p, i) - mean) * (x.at(p, i) - mean) / width;
            }
            assertEquals(0, nMean, 1e-12, normalized + " mean at " + p);
            assertEquals(Math.sqrt(var + CFG.eps()), s.at(p), 1e-12 * s.at(p), scale + " at " + p);
            assertEquals(var / (var + CFG.eps()), nSq, 1e-12, normalized + " variance at " + p);
        }
    }

    @Test
    void soluIsInputTimesSoftmaxOfTheRow() {
        ForwardResult r = run(TestModels.randomTokens(new Random(2), 9, CFG.dVocab()));
        Activation pre = r.get(Hooks.MLP_PRE), mid = r.get(Hooks.MLP_MID);
        for (int p = 0; p < 9; p++) {
            double z = 0;
            for (int i = 0; i < CFG.dMlp(); i++) {
                z += Math.exp(pre.at(p, i));
            }
            double weightSum = 0;
            for (int i = 0; i < CFG.dMlp(); i++) {
                double softmax = Math.exp(pre.at(p, i)) / z;
                assertEquals(pre.at(p, i) * softmax, mid.at(p, i), 1e-13, "mid [" + p + ", " + i + "]");
                weightSum += mid.at(p, i) / pre.at(p, i);
            }
            assertEquals(1.0, weightSum, 1e-12, "softmax weights sum to 1 at " + p);
        }
    }

    @Test
    void changingALaterTokenNeverChangesEarlierPositions() {
        Random rng = new Random(3);
        int[] a = TestModels.randomTokens(rng, 14, CFG.dVocab());
        int[] b = a.clone();
        int changed = 9;
        b[changed] = (a[changed] + 1 + rng.nextInt(CFG.dVocab() - 1)) % CFG.dVocab();
        ForwardResult ra = run(a), rb = run(b);
        int vocab = CFG.dVocab();
        double[] la = ra.get(Hooks.LOGITS).data(), lb = rb.get(Hooks.LOGITS).data();
        for (int p = 0; p < changed; p++) {
            for (int v = 0; v < vocab; v++) {
                assertEquals(la[p * vocab + v], lb[p * vocab + v], 0, "logit [" + p + ", " + v + "]");
            }
        }
        // The loss at changed-1 predicts the changed token, so it differs; the ones before do not.
        for (int p = 0; p < changed - 1; p++) {
            assertEquals(ra.loss()[p], rb.loss()[p], 0, "loss at " + p);
        }
        assertNotEquals(ra.loss()[changed - 1], rb.loss()[changed - 1]);
        assertNotEquals(la[changed * vocab], lb[changed * vocab], "the changed position itself must change");
    }

    @Test
    void permutingHeadsConsistentlyLeavesLogitsUnchanged() {
        int[] perm = {2, 0, 1};
        SoluWeights w = MODEL.weights();
        Map<String, Tensor> permuted = new HashMap<>(w.byName());
        for (String name : List.of("blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V", "blocks.0.attn.b_Q",
                "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.W_O")) {
            Tensor t = w.byName().get(name);
            float[] v = t.toArray();
            float[] out = new float[v.length];
            int block = v.length / CFG.nHeads();
            for (int h = 0; h < CFG.nHeads(); h++) {
                System.arraycopy(v, perm[h] * block, out, h * block, block);
            }
            permuted.put(name, Tensor.of(name, t.shape(), out));
        }
        SoluModel other = new SoluModel(CFG, SoluWeights.from(CFG, permuted::get), null, "permuted");
        int[] tokens = TestModels.randomTokens(new Random(4), 10, CFG.dVocab());
        double[] expected = run(tokens).get(Hooks.LOGITS).data();
        double[] actual = new CpuBackend(other).run(tokens, List.of(Hooks.LOGITS)).get(Hooks.LOGITS).data();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12, "logit " + i);
        }
        // and the heads really moved: head 0's pattern of the permuted model is head 2's of the original
        double[] pOrig = run(tokens).get(Hooks.PATTERN).data();
        double[] pPerm = new CpuBackend(other).run(tokens, List.of(Hooks.PATTERN)).get(Hooks.PATTERN).data();
        int hp = tokens.length * tokens.length;
        for (int i = 0; i < hp; i++) {
            assertEquals(pOrig[2 * hp + i], pPerm[i], 1e-15);
        }
    }

    @Test
    void promptsOfDifferentLengthsTogetherGiveTheSameResultsAsOneAtATime() {
        Random rng = new Random(5);
        List<int[]> prompts = List.of(TestModels.randomTokens(rng, 3, CFG.dVocab()),
                TestModels.randomTokens(rng, 16, CFG.dVocab()), TestModels.randomTokens(rng, 1, CFG.dVocab()),
                TestModels.randomTokens(rng, 7, CFG.dVocab()));
        CpuBackend backend = new CpuBackend(MODEL);
        List<ForwardResult> together = backend.run(prompts, Hooks.ALL);
        assertEquals(prompts.size(), together.size());
        for (int i = 0; i < prompts.size(); i++) {
            ForwardResult alone = backend.run(prompts.get(i), Hooks.ALL);
            assertArrayEquals(prompts.get(i), together.get(i).tokens());
            assertArrayEquals(alone.loss(), together.get(i).loss(), 0);
            for (String hook : Hooks.ALL) {
                assertArrayEquals(alone.get(hook).data(), together.get(i).get(hook).data(), 0, hook);
            }
        }
    }

    @Test
    void attentionScoresAreMinusInfinityAboveTheDiagonalAndPatternsSumToOne() {
        ForwardResult r = run(TestModels.randomTokens(new Random(6), 8, CFG.dVocab()));
        Activation scores = r.get(Hooks.ATTN_SCORES), pattern = r.get(Hooks.PATTERN);
        for (int h = 0; h < CFG.nHeads(); h++) {
            for (int i = 0; i < 8; i++) {
                double sum = 0;
                for (int j = 0; j < 8; j++) {
                    if (j > i) {
                        assertEquals(Double.NEGATIVE_INFINITY, scores.at(h, i, j));
                        assertEquals(0, pattern.at(h, i, j));
                    }
                    sum += pattern.at(h, i, j);
                }
                assertEquals(1, sum, 1e-12);
            }
        }
        assertTrue(r.meanLoss() > 0);
    }
}

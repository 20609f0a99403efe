package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.FrozenScales;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.NaiveForward;
import org.solulens.testing.TestModels;

/**
 * The direct / MLP-LayerNorm-mediated / ln_final-mediated split against slow truth: each frozen-scale sweep against
 * the re-forward with the scales patched, and against an independent naive forward pass with TransformerLens-style
 * hook patches; the parts sum to the total; group ablation of one neuron is the single sweep.
 */
class EffectDecompositionTest {
    private static final double EXACT_TOLERANCE = 1e-6;

    @ParameterizedTest(name = "d_model {0}, d_mlp {1}, seed {4}")
    @CsvSource({"16, 32, 2, 8, 11", "24, 20, 3, 8, 12"})
    void everyFrozenVariantMatchesThePatchedReforwardAndANaiveHookedForward(int dModel, int dMlp, int heads, int dHead, long seed) {
        ModelConfig cfg = TestModels.config(dModel, dMlp, heads, dHead, 16, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, seed);
        CpuBackend backend = new CpuBackend(model);
        Random rng = new Random(seed);
        int[] tokens = TestModels.randomTokens(rng, 9, cfg.dVocab());
        ForwardResult clean = backend.run(tokens, Hooks.ALL);
        double[][] scales = NaiveForward.scales(cfg, model.weights(), tokens);
        for (Ablation.Site site : Ablation.Site.values()) {
            double[] means = new double[dMlp];
            for (int n = 0; n < dMlp; n++) {
                means[n] = rng.nextGaussian() * 0.1;   // value-ablation to random values: c differs from the activation's
            }
            for (Ablation ablation : List.of(Ablation.zero(site), new Ablation(site, Ablation.Kind.VALUE, means))) {
                for (FrozenScales frozen : FrozenScales.values()) {
                    SweepRequest request = new SweepRequest(ablation, SweepMethod.EXACT, null, false, frozen);
                    SweepResult exact = backend.sweep(clean, request);
                    SweepResult slow = backend.sweep(clean, new SweepRequest(ablation, SweepMethod.REFORWARD, null, false, frozen));
                    String what = ablation.label() + ", frozen " + frozen;
                    for (int i = 0; i < exact.delta().length; i++) {
                        assertEquals(slow.delta()[i], exact.delta()[i], EXACT_TOLERANCE, what + ", pair " + i);
                    }
                    // independent truth for a few pairs: a whole forward pass with the hooks patched
                    for (int probe = 0; probe < 6; probe++) {
                        int p = rng.nextInt(exact.positions()), n = rng.nextInt(dMlp);
                        NaiveForward.Patch patch = new NaiveForward.Patch(p, site == Ablation.Site.MID, new int[] {n},
                                new double[] {ablation.replacement(n)}, frozen.mlpLn() ? scales[0][p] : Double.NaN,
                                frozen.lnFinal() ? scales[1][p] : Double.NaN);
                        double[][] logits = NaiveForward.logits(cfg, model.weights(), tokens, patch, null);
                        double[][] cleanLogits = NaiveForward.logits(cfg, model.weights(), tokens);
                        double truth = loss(logits[p], tokens[p + 1]) - loss(cleanLogits[p], tokens[p + 1]);
                        assertEquals(truth, exact.delta(p, n), EXACT_TOLERANCE, what + " at (" + p + ", " + n + ") vs the naive hooked pass");
                    }
                }
            }
        }
    }

    @Test
    void thePartsSumToTheTotalAndTheMlpLayerNormPartVanishesAfterIt() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 16, 41, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 5);
        CpuBackend backend = new CpuBackend(model);
        ForwardResult clean = backend.run(TestModels.randomTokens(new Random(5), 10, cfg.dVocab()), Hooks.ALL);
        EffectDecomposition.Parts mid = EffectDecomposition.run(backend, clean, Ablation.zero(Ablation.Site.MID));
        SweepResult plain = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false));
        double largestMediated = 0;
        for (int i = 0; i < mid.total().length; i++) {
            assertEquals(plain.delta()[i], mid.total()[i], 0.0, "the total is the ordinary sweep");
            assertEquals(mid.total()[i], mid.direct()[i] + mid.viaMlpLn()[i] + mid.viaLnFinal()[i], 1e-12, "pair " + i);
            largestMediated = Math.max(largestMediated, Math.abs(mid.viaMlpLn()[i]));
        }
        assertTrue(largestMediated > 1e-6, "at mid the MLP LayerNorm carries part of the effect: " + largestMediated);
        EffectDecomposition.Parts post = EffectDecomposition.run(backend, clean, Ablation.zero(Ablation.Site.POST));
        for (int i = 0; i < post.total().length; i++) {
            assertEquals(0.0, post.viaMlpLn()[i], 0.0, "after the MLP LayerNorm nothing passes through it");
            assertEquals(post.total()[i], post.direct()[i] + post.viaLnFinal()[i], 1e-12);
        }
    }

    @Test
    void groupAblationOfOneNeuronIsTheSingleSweepAndAGroupIsTheNaiveHookedPass() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 16, 41, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 9);
        CpuBackend backend = new CpuBackend(model);
        int[] tokens = TestModels.randomTokens(new Random(9), 8, cfg.dVocab());
        ForwardResult clean = backend.run(tokens, Hooks.ALL);
        Random rng = new Random(3);
        for (Ablation.Site site : Ablation.Site.values()) {
            Ablation ablation = Ablation.zero(site);
            SweepResult single = backend.sweep(clean, new SweepRequest(ablation, SweepMethod.EXACT, null, false));
            for (int p = 0; p < single.positions(); p++) {
                int n = rng.nextInt(cfg.dMlp());
                GroupAblation.Sets sets = GroupAblation.sets(clean.get(Hooks.MLP_MID).data(), cfg.dMlp(), p, 5, rng);
                double[] d = GroupAblation.deltaLoss(model, clean, ablation, p, List.of(new int[] {n}, sets.lowest(), sets.random()));
                assertEquals(single.delta(p, n), d[0], EXACT_TOLERANCE, site + " single neuron " + n + " at " + p);
                int[] group = sets.random();
                double[][] logits = NaiveForward.logits(cfg, model.weights(), tokens,
                        new NaiveForward.Patch(p, site == Ablation.Site.MID, group, new double[group.length], Double.NaN, Double.NaN), null);
                double[][] cleanLogits = NaiveForward.logits(cfg, model.weights(), tokens);
                assertEquals(loss(logits[p], tokens[p + 1]) - loss(cleanLogits[p], tokens[p + 1]), d[2], EXACT_TOLERANCE, site + " group at " + p);
            }
        }
    }

    @Test
    void setsAreRankedWithoutOverlapAndTheRandomSetIsSeeded() {
        double[] act = {0.5, -1, 2, 0.1, -0.3, 3};
        GroupAblation.Sets s = GroupAblation.sets(act, 6, 0, 2, new Random(1));
        assertEquals(List.of(1, 4), java.util.Arrays.stream(s.lowest()).boxed().toList());
        assertEquals(List.of(5, 2), java.util.Arrays.stream(s.highest()).boxed().toList());
        assertEquals(java.util.Arrays.toString(s.random()), java.util.Arrays.toString(GroupAblation.sets(act, 6, 0, 2, new Random(1)).random()));
        assertEquals(2, java.util.Arrays.stream(s.random()).distinct().count());
        assertThrows(IllegalArgumentException.class, () -> GroupAblation.sets(act, 6, 0, 7, new Random(1)));
    }

    @Test
    void aGeluModelRefusesMidWithAClearError() {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 16, 41, ActivationFunction.GELU);
        SoluModel model = TestModels.random(cfg, 4);
        CpuBackend backend = new CpuBackend(model);
        ForwardResult clean = backend.run(TestModels.randomTokens(new Random(4), 6, cfg.dVocab()), Hooks.available(cfg));
        var e = assertThrows(IllegalArgumentException.class, () -> EffectDecomposition.run(backend, clean, Ablation.zero(Ablation.Site.MID)));
        assertTrue(e.getMessage().contains("MLP LayerNorm") && e.getMessage().contains("gelu"), e.getMessage());
        var g = assertThrows(IllegalArgumentException.class,
                () -> GroupAblation.deltaLoss(model, clean, Ablation.zero(Ablation.Site.MID), 0, List.of(new int[] {1})));
        assertTrue(g.getMessage().contains("MLP LayerNorm") && g.getMessage().contains("gelu"), g.getMessage());
    }

    private static double loss(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        for (double l : logits) {
            sum += Math.exp(l - max);
        }
        return max + Math.log(sum) - logits[target];
    }
}

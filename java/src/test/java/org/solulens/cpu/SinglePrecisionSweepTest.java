package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The exact sweep's single-precision path against its double path (the oracle) and the float64 re-forward. */
class SinglePrecisionSweepTest {
    /** The bound the README states for the single path against double. */
    private static final double SINGLE_TOLERANCE = 1e-6;

    @ParameterizedTest(name = "d_model {0}, d_mlp {1}, vocab {2}, {3} tokens")
    @CsvSource({"16, 32, 41, 9, 1", "32, 48, 4096, 12, 2", "24, 40, 9001, 11, 3", "8, 17, 4111, 20, 4"})
    void singleAgreesWithDoubleAndTheReforwardForEveryAblation(int dModel, int dMlp, int vocab, int length, long seed) {
        ModelConfig cfg = TestModels.config(dModel, dMlp, 2, dModel / 2, 32, vocab, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, seed);
        CpuBackend single = new CpuBackend(model, SweepPrecision.SINGLE), dbl = new CpuBackend(model, SweepPrecision.DOUBLE);
        int[] tokens = TestModels.randomTokens(new Random(seed), length, vocab);
        ForwardResult clean = single.run(tokens, Hooks.ALL);
        for (Ablation ablation : List.of(Ablation.zero(Ablation.Site.POST), Ablation.zero(Ablation.Site.MID),
                new Ablation(Ablation.Site.POST, Ablation.Kind.PAPER, null))) {
            SweepRequest request = new SweepRequest(ablation, SweepMethod.EXACT, null, false);
            SweepResult fast = single.sweep(clean, request), reference = dbl.sweep(clean, request);
            SweepResult slow = dbl.sweep(clean, new SweepRequest(ablation, SweepMethod.REFORWARD, null, false));
            double worst = 0, largest = 0;
            for (int i = 0; i < fast.delta().length; i++) {
                worst = Math.max(worst, Math.abs(fast.delta()[i] - reference.delta()[i]));
                largest = Math.max(largest, Math.abs(reference.delta()[i]));
                assertEquals(slow.delta()[i], fast.delta()[i], 1e-6 * Math.max(1, Math.abs(slow.delta()[i])), ablation.label() + " pair " + i);
            }
            assertTrue(worst <= SINGLE_TOLERANCE, ablation.label() + ": max |single - double| = " + worst);
            assertTrue(largest > 1e-3, ablation.label() + ": the ablations must change the loss (max " + largest + ")");
        }
    }

    @Test
    void aSelectionSweepsOnlyItsPairsAndGivesTheSameNumbersAsTheWholeSweep() {
        ModelConfig cfg = TestModels.config(16, 40, 2, 8, 32, 5003, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 21);
        CpuBackend backend = new CpuBackend(model);
        ForwardResult clean = backend.run(TestModels.randomTokens(new Random(21), 14, 5003), Hooks.ALL);
        SweepRequest all = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false);
        SweepResult whole = backend.sweep(clean, all);
        boolean[] selected = new boolean[whole.delta().length];
        Random rng = new Random(5);
        for (int i = 0; i < selected.length; i++) {
            selected[i] = rng.nextInt(3) == 0;
        }
        SweepResult some = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, selected, false));
        for (int i = 0; i < selected.length; i++) {
            if (selected[i]) {
                // the vocabulary is summed in fixed chunks: the same bits whatever else shares the tile
                assertEquals(Double.doubleToRawLongBits(whole.delta()[i]), Double.doubleToRawLongBits(some.delta()[i]), "pair " + i);
            } else {
                assertTrue(Double.isNaN(some.delta()[i]), "pair " + i + " was not selected");
            }
        }
    }

    /**
     * Zero-ablating the demo model's strongest neurons at hook_mid moves logits by hundreds: those pairs must take the
     * double path (the same bits as a double backend), the ordinary ones the single path (close, not identical).
     */
    @Test
    void pairsThatMoveLogitsFarTakeTheDoublePath() {
        SoluModel model = org.solulens.model.DemoModel.load();
        CpuBackend single = new CpuBackend(model, SweepPrecision.SINGLE), dbl = new CpuBackend(model, SweepPrecision.DOUBLE);
        int identicalLarge = 0, differentSmall = 0, small = 0;
        for (String text : org.solulens.analysis.PromptFamilies.defaultSentences()) {
            ForwardResult clean = single.run(model.tokenize(text, true), Hooks.ALL);
            SweepRequest request = new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false);
            SweepResult fast = single.sweep(clean, request), reference = dbl.sweep(clean, request);
            for (int i = 0; i < fast.delta().length; i++) {
                double r = reference.delta()[i], f = fast.delta()[i];
                assertEquals(r, f, SINGLE_TOLERANCE * Math.max(1, Math.abs(r)), "\"" + text + "\" pair " + i);
                if (Math.abs(r) > 5 && Double.doubleToRawLongBits(r) == Double.doubleToRawLongBits(f)) {
                    identicalLarge++;
                }
                if (Math.abs(r) < 0.1) {
                    small++;
                    differentSmall += Double.doubleToRawLongBits(r) != Double.doubleToRawLongBits(f) ? 1 : 0;
                }
            }
        }
        assertTrue(identicalLarge > 0, "some amplified pairs took the double path");
        assertTrue(differentSmall > small / 2, "most ordinary pairs took the single path: " + differentSmall + " of " + small);
    }
}

package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** Site post's rows A made from the clean forward's logits, against the unembedding they replace. */
class SpareLogitsTest {
    private static final ModelConfig CFG = TestModels.config(24, 48, 2, 12, 40, 301, ActivationFunction.SOLU_LN);
    private static final SweepRequest POST = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false);

    @Test
    void rowsFromTheLogitsAreTheUnembeddingsChunkByChunk() {
        SoluModel model = TestModels.random(CFG, 71);
        int[] tokens = TestModels.randomTokens(new Random(71), 11, CFG.dVocab());
        int P = tokens.length, V = CFG.dVocab(), D = CFG.dModel();
        try (CpuBackend backend = new CpuBackend(model)) {
            ForwardResult clean = backend.run(tokens, List.of(Hooks.LOGITS, Hooks.LN_FINAL_SCALE, Hooks.RESID_POST));
            SweepConstants k = new SweepConstants(CFG, model.weights());
            double[] yBar = clean.get(Hooks.RESID_POST).data().clone();
            for (int p = 0; p < P; p++) {
                SweepConstants.centre(yBar, p * D, D);
            }
            double[] logits = clean.get(Hooks.LOGITS).data().clone(), scale = clean.get(Hooks.LN_FINAL_SCALE).data();
            int chunk = 4;   // chunks of one size in order, written over one array, as the sweep takes them
            for (int p0 = 0; p0 < P; p0 += chunk) {
                int p1 = Math.min(P, p0 + chunk);
                double[] expected = k.unembed(yBar, p0, p1 - p0);
                double[] a = k.unembedFromLogits(logits, scale, p0, p1);
                double worst = 0, largest = 0;
                for (int i = 0; i < expected.length; i++) {
                    worst = Math.max(worst, Math.abs(a[i] - expected[i]));
                    largest = Math.max(largest, Math.abs(expected[i]));
                }
                assertTrue(largest > 0.1, "rows of real size");
                assertTrue(worst < 1e-12 * (1 + largest), "rows [" + p0 + ", " + p1 + "): " + worst);
            }
            assertThrows(IllegalArgumentException.class, () -> k.unembedFromLogits(logits, scale, 2, 6), "a chunk reading rows it writes");
            assertThrows(IllegalArgumentException.class, () -> k.unembedFromLogits(logits, scale, 8, P + 1), "past the last row");
        }
    }

    @Test
    void logitsMadeAgainFromTheHooksAreTheForwardsBitForBit() {
        for (ActivationFunction act : List.of(ActivationFunction.SOLU_LN, ActivationFunction.GELU)) {
            ModelConfig cfg = TestModels.config(24, 48, 2, 12, 40, 301, act);
            SoluModel model = TestModels.random(cfg, 76);
            try (CpuBackend backend = new CpuBackend(model)) {
                List<String> hooks = new ArrayList<>(POST.requiredHooks(cfg));
                hooks.add(Hooks.LOGITS);
                ForwardResult clean = backend.run(TestModels.randomTokens(new Random(76), 10, cfg.dVocab()), hooks);
                double[] forward = clean.get(Hooks.LOGITS).data(), again = new SweepConstants(cfg, model.weights()).logitsOf(clean);
                assertEquals(forward.length, again.length);
                for (int i = 0; i < forward.length; i++) {
                    assertEquals(Double.doubleToRawLongBits(forward[i]), Double.doubleToRawLongBits(again[i]), act + ", logit " + i);
                }
            }
        }
    }

    @Test
    void aPreparedSweepTakesItsForwardsLogitsGivesTheUnpreparedBitsAndAgreesWithTheReforward() {
        SoluModel model = TestModels.random(CFG, 72);
        int[] tokens = TestModels.randomTokens(new Random(72), 13, CFG.dVocab());
        double[] unprepared, prepared;
        try (CpuBackend backend = new CpuBackend(model, SweepPrecision.DOUBLE)) {
            unprepared = backend.sweep(backend.run(tokens, POST.requiredHooks(CFG)), POST).delta();
        }
        try (CpuBackend backend = new CpuBackend(model, SweepPrecision.DOUBLE)) {
            backend.prepareSweep(POST);
            ForwardResult clean = backend.run(tokens, POST.requiredHooks(CFG));
            assertTrue(backend.holdsLogitsFor(clean));
            prepared = backend.sweep(clean, POST).delta();
            assertFalse(backend.holdsLogitsFor(clean), "taken by the sweep");
            double[] reforward = backend.sweep(clean, new SweepRequest(POST.ablation(), SweepMethod.REFORWARD, null, false)).delta();
            for (int i = 0; i < prepared.length; i++) {
                assertEquals(Double.doubleToRawLongBits(unprepared[i]), Double.doubleToRawLongBits(prepared[i]), "pair " + i);
                assertEquals(reforward[i], prepared[i], 1e-6, "pair " + i + " against the re-forward");
            }
        }
    }

    @Test
    void logitsAHookHoldsAreNeverOverwrittenAndAnotherResultCannotTakeThem() {
        SoluModel model = TestModels.random(CFG, 73);
        Random rng = new Random(73);
        int[] first = TestModels.randomTokens(rng, 9, CFG.dVocab()), second = TestModels.randomTokens(rng, 9, CFG.dVocab());
        try (CpuBackend backend = new CpuBackend(model)) {
            backend.prepareSweep(POST);
            List<String> hooks = new ArrayList<>(POST.requiredHooks(CFG));
            hooks.add(Hooks.LOGITS);
            ForwardResult withLogits = backend.run(first, hooks);
            double[] before = withLogits.get(Hooks.LOGITS).data().clone();
            assertFalse(backend.holdsLogitsFor(withLogits), "a hook's logits are the caller's");
            backend.sweep(withLogits, POST);
            assertArrayEquals(before, withLogits.get(Hooks.LOGITS).data());

            ForwardResult a = backend.run(first, POST.requiredHooks(CFG)), b = backend.run(second, POST.requiredHooks(CFG));
            assertFalse(backend.holdsLogitsFor(a), "the last forward's logits replace the ones before");
            assertTrue(backend.holdsLogitsFor(b));
            backend.sweep(a, POST);
            assertTrue(backend.holdsLogitsFor(b), "another result's sweep leaves them");
            backend.sweep(b, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false));
            assertTrue(backend.holdsLogitsFor(b), "site mid does not read them");
        }
    }

    @Test
    void anUnpreparedBackendHoldsNoLogits() {
        SoluModel model = TestModels.random(CFG, 74);
        try (CpuBackend backend = new CpuBackend(model)) {
            ForwardResult clean = backend.run(TestModels.randomTokens(new Random(74), 7, CFG.dVocab()), POST.requiredHooks(CFG));
            assertFalse(backend.holdsLogitsFor(clean));
            backend.prepareSweep(new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false));
            assertFalse(backend.holdsLogitsFor(backend.run(TestModels.randomTokens(new Random(75), 7, CFG.dVocab()), POST.requiredHooks(CFG))),
                    "a sweep at site mid prepared");
        }
    }
}

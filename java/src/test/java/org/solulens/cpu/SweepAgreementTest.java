package org.solulens.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;
import org.solulens.testing.TlReference;

/** The exact algebraic sweep against actually re-running the forward pass, and both against TransformerLens. */
class SweepAgreementTest {
    /** The project's bar for the exact algebra against the float64 re-forward. */
    private static final double EXACT_TOLERANCE = 1e-6;
    /** TransformerLens computed its sweeps in float32: its rounding is ~1e-6 (tl-reference README). */
    private static final double TL_TOLERANCE = 1e-5;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(16, 32, 2, 8, 9, 41, 1L),
                Arguments.of(24, 20, 3, 8, 7, 67, 2L),
                Arguments.of(8, 64, 1, 8, 6, 23, 3L));
    }

    private static double[] meanOverPositions(ForwardResult r, String hook, int n) {
        double[] data = r.get(hook).data();
        int rows = data.length / n;
        double[] mean = new double[n];
        for (int i = 0; i < data.length; i++) {
            mean[i % n] += data[i] / rows;
        }
        return mean;
    }

    @ParameterizedTest(name = "d_model {0}, d_mlp {1}, {2} heads, vocab {5}")
    @MethodSource("models")
    void exactMatchesReforwardForEveryPairBothSitesAndEveryAblation(int dModel, int dMlp, int nHeads, int dHead, int length,
                                                                   int vocab, long seed) {
        ModelConfig cfg = TestModels.config(dModel, dMlp, nHeads, dHead, 16, vocab, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, seed);
        CpuBackend backend = new CpuBackend(model);
        Random rng = new Random(seed);
        for (int prompt = 0; prompt < 2; prompt++) {
            int[] tokens = TestModels.randomTokens(rng, length + prompt, vocab);
            ForwardResult clean = backend.run(tokens, Hooks.ALL);
            for (Ablation ablation : List.of(
                    Ablation.zero(Ablation.Site.POST),
                    Ablation.zero(Ablation.Site.MID),
                    new Ablation(Ablation.Site.POST, Ablation.Kind.MEAN, meanOverPositions(clean, Hooks.MLP_POST, dMlp)),
                    new Ablation(Ablation.Site.MID, Ablation.Kind.MEAN, meanOverPositions(clean, Hooks.MLP_MID, dMlp)),
                    new Ablation(Ablation.Site.POST, Ablation.Kind.PAPER, null))) {
                SweepResult exact = backend.sweep(clean, new SweepRequest(ablation, SweepMethod.EXACT, null, true));
                SweepResult slow = backend.sweep(clean, new SweepRequest(ablation, SweepMethod.REFORWARD, null, true));
                double worst = 0, largest = 0;
                for (int i = 0; i < exact.delta().length; i++) {
                    worst = Math.max(worst, Math.abs(exact.delta()[i] - slow.delta()[i]));
                    largest = Math.max(largest, Math.abs(slow.delta()[i]));
                    // B is held in float32, so ablated logits carry ~1e-8 relative rounding
                    assertEquals(slow.cosine()[i], exact.cosine()[i], 1e-6, ablation.label() + " cosine " + i);
                }
                assertTrue(worst <= EXACT_TOLERANCE, ablation.label() + ": max |exact - reforward| = " + worst);
                assertTrue(largest > 1e-3, ablation.label() + ": the ablations must actually change the loss (max " + largest + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void exactAndReforwardMatchTransformerLensSweeps(int prompt) throws IOException {
        try (SoluModel model = ModelFolder.load(TlReference.modelDir())) {
            CpuBackend backend = new CpuBackend(model);
            ForwardResult clean = backend.run(TlReference.tokens(prompt), Hooks.ALL);
            int n = model.config().dMlp();
            record Case(String file, Ablation ablation) {}
            for (Case c : List.of(
                    new Case("sweep_post_zero.npy", Ablation.zero(Ablation.Site.POST)),
                    new Case("sweep_mid_zero.npy", Ablation.zero(Ablation.Site.MID)),
                    new Case("sweep_post_mean.npy", new Ablation(Ablation.Site.POST, Ablation.Kind.MEAN, meanOverPositions(clean, Hooks.MLP_POST, n))),
                    new Case("sweep_post_zeronorm.npy", new Ablation(Ablation.Site.POST, Ablation.Kind.PAPER, null)))) {
                Npy.Array expected = Npy.read(TlReference.promptDir(prompt).resolve(c.file()));
                for (SweepMethod method : List.of(SweepMethod.EXACT, SweepMethod.REFORWARD)) {
                    SweepResult r = backend.sweep(clean, new SweepRequest(c.ablation(), method, null, false));
                    assertArrayEquals(expected.shape(), new int[] {r.positions(), r.dMlp()}, c.file());
                    double worst = 0;
                    for (int i = 0; i < r.delta().length; i++) {
                        worst = Math.max(worst, Math.abs(expected.data()[i] - r.delta()[i]));
                    }
                    assertTrue(worst <= TL_TOLERANCE, c.file() + " by " + method + ": max |difference| " + worst);
                }
            }
        }
    }

    @Test
    void unselectedPairsAreNaNAndSelectedOnesAreComputed() {
        ModelConfig cfg = TestModels.config(8, 16, 2, 4, 8, 13, ActivationFunction.SOLU_LN);
        CpuBackend backend = new CpuBackend(TestModels.random(cfg, 9));
        ForwardResult clean = backend.run(new int[] {1, 5, 7, 2, 3}, Hooks.ALL);
        boolean[] mask = new boolean[4 * 16];
        mask[3] = mask[2 * 16 + 15] = true;
        for (SweepMethod m : SweepMethod.values()) {
            SweepResult r = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), m, mask, false));
            long computed = Arrays.stream(r.delta()).filter(d -> !Double.isNaN(d)).count();
            assertEquals(2, computed, m.label());
            assertTrue(Double.isFinite(r.delta(0, 3)) && Double.isFinite(r.delta(2, 15)), m.label());
        }
    }

    @Test
    void attributionIsTheDerivativeForSmallChanges() {
        ModelConfig cfg = TestModels.config(12, 24, 2, 6, 8, 29, ActivationFunction.SOLU_LN);
        CpuBackend backend = new CpuBackend(TestModels.random(cfg, 10));
        ForwardResult clean = backend.run(new int[] {3, 9, 27, 4, 11, 8}, Hooks.ALL);
        int p = 3, n = 24;
        boolean[] mask = new boolean[5 * n];
        Arrays.fill(mask, p * n, (p + 1) * n, true);
        double h = 1e-4;
        for (Ablation.Site site : Ablation.Site.values()) {
            double[] values = new double[n];
            for (int j = 0; j < n; j++) {
                values[j] = clean.get(site.hook()).at(p, j) - h;   // a change of -h in every neuron of position p
            }
            Ablation ab = new Ablation(site, Ablation.Kind.VALUE, values);
            SweepResult exact = backend.sweep(clean, new SweepRequest(ab, SweepMethod.EXACT, mask, false));
            SweepResult attribution = backend.sweep(clean, new SweepRequest(ab, SweepMethod.ATTRIBUTION, mask, false));
            for (int j = 0; j < n; j++) {
                // second-order term: O(h^2) times a curvature of order 1..1e4 at the MLP LayerNorm's amplification
                double tol = 1e-6 + 1e-3 * Math.abs(exact.delta(p, j));
                assertEquals(exact.delta(p, j), attribution.delta(p, j), tol, site + " neuron " + j);
            }
        }
    }

    /**
     * Zero-ablating one of the demo model's strongest neurons at hook_mid leaves the MLP LayerNorm a nearly flat row to
     * divide by ~sqrt(eps): logits move by hundreds, the one-pass bound overshot the largest of them by more than 700,
     * and the sum underflowed (Δloss was +Infinity for some pairs of the bundled sentences). Every pair must be finite,
     * and the large ones must agree with the re-forward (float32 B, amplified: 1e-5 of max(1, |Δloss|)).
     */
    @Test
    void amplifiedAblationsAtMidStayFiniteAndExact() {
        SoluModel model = org.solulens.model.DemoModel.load();
        CpuBackend backend = new CpuBackend(model);
        int large = 0;
        for (String text : org.solulens.analysis.PromptFamilies.defaultSentences()) {
            ForwardResult clean = backend.run(model.tokenize(text, true), Hooks.ALL);
            SweepResult exact = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false));
            boolean[] selected = new boolean[exact.delta().length];
            double[] mid = clean.get(Hooks.MLP_MID).data();
            int n = model.config().dMlp();
            for (int i = 0; i < selected.length; i++) {
                assertTrue(Double.isFinite(exact.delta()[i]), "\"" + text + "\" pair " + i + ": " + exact.delta()[i]);
                selected[i] = Math.abs(exact.delta()[i]) > 5;
                large += selected[i] ? 1 : 0;
            }
            for (int p = 0; p < exact.positions(); p++) {   // each position's strongest neuron: the most amplified ablation
                int strongest = 0;
                for (int j = 1; j < n; j++) {
                    strongest = Math.abs(mid[p * n + j]) > Math.abs(mid[p * n + strongest]) ? j : strongest;
                }
                selected[p * n + strongest] = true;
            }
            SweepResult slow = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.REFORWARD, selected, false));
            // the cosine path sums its own exponentials: the same fallback must hold there
            SweepResult withCosine = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, selected, true));
            for (int i = 0; i < selected.length; i++) {
                if (selected[i]) {
                    assertEquals(slow.delta()[i], exact.delta()[i], 1e-5 * Math.max(1, Math.abs(slow.delta()[i])), "\"" + text + "\" pair " + i);
                    assertEquals(slow.delta()[i], withCosine.delta()[i], 1e-5 * Math.max(1, Math.abs(slow.delta()[i])), "\"" + text + "\" pair " + i + " with cosines");
                }
            }
        }
        assertTrue(large > 0, "the bundled sentences have amplified pairs");
    }
}

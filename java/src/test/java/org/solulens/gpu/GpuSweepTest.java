package org.solulens.gpu;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;
import org.solulens.testing.TlReference;

/** The sweep kernel (one launch for all pairs) against the float64 CPU sweep, on the emulator and on a GPU. */
@Tag("device")
class GpuSweepTest {
    /** The project's bound for the float32 kernel against the float64 oracle: |error| ≤ 2e-6 + 1e-4 |Δ|. */
    private static double tolerance(double delta) {
        return 2e-6 + 1e-4 * Math.abs(delta);
    }

    static java.util.stream.Stream<String> devices() {
        return DeviceTesting.devices();
    }

    private static double[] means(ForwardResult r, String hook, int n) {
        double[] data = r.get(hook).data(), mean = new double[n];
        for (int i = 0; i < data.length; i++) {
            mean[i % n] += data[i] / (data.length / n);
        }
        return mean;
    }

    @ParameterizedTest
    @MethodSource("devices")
    void everyPairMatchesTheFloat64CpuSweepAtBothSitesForEveryAblation(String kind) {
        // d_mlp 45 and d_vocab 263 (prime) are not multiples of the kernel's tiles; 6 prompt positions are not of 4
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 263, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 11);
        CpuBackend cpu = new CpuBackend(model);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            int[] tokens = TestModels.randomTokens(new Random(11), 7, cfg.dVocab());
            ForwardResult cleanCpu = cpu.run(tokens, Hooks.available(cfg));
            ForwardResult cleanGpu = gpu.run(tokens, Hooks.available(cfg));
            for (Ablation ablation : List.of(Ablation.zero(Ablation.Site.POST), Ablation.zero(Ablation.Site.MID),
                    new Ablation(Ablation.Site.MID, Ablation.Kind.MEAN, means(cleanCpu, Hooks.MLP_MID, 45)),
                    new Ablation(Ablation.Site.POST, Ablation.Kind.MEAN, means(cleanCpu, Hooks.MLP_POST, 45)),
                    new Ablation(Ablation.Site.POST, Ablation.Kind.PAPER, null))) {
                SweepResult expected = cpu.sweep(cleanCpu, new SweepRequest(ablation, SweepMethod.EXACT, null, false));
                for (SweepKernel kernel : SweepKernel.values()) {
                    gpu.useSweepKernel(kernel);
                    SweepResult actual = gpu.sweep(cleanGpu, new SweepRequest(ablation, SweepMethod.EXACT, null, false));
                    double largest = 0;
                    for (int i = 0; i < expected.delta().length; i++) {
                        double e = expected.delta()[i], a = actual.delta()[i];
                        assertTrue(Math.abs(e - a) <= tolerance(e),
                                kind + " " + kernel + " " + ablation.label() + " pair " + i + ": cpu " + e + ", device " + a);
                        largest = Math.max(largest, Math.abs(e));
                    }
                    assertTrue(largest > 1e-3, "the ablations must change the loss");
                }
            }
        }
    }

    /** The direct / mediated split on the device: every frozen-scale variant within the bound of the float64 CPU sweep. */
    @ParameterizedTest
    @MethodSource("devices")
    void frozenLayerNormScalesMatchTheCpuOnTheDevice(String kind) {
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 263, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 13);
        CpuBackend cpu = new CpuBackend(model);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            int[] tokens = TestModels.randomTokens(new Random(13), 7, cfg.dVocab());
            ForwardResult cleanCpu = cpu.run(tokens, Hooks.available(cfg));
            ForwardResult cleanGpu = gpu.run(tokens, Hooks.available(cfg));
            for (Ablation.Site site : Ablation.Site.values()) {
                org.solulens.analysis.EffectDecomposition.Parts expected = org.solulens.analysis.EffectDecomposition.run(cpu, cleanCpu, Ablation.zero(site));
                org.solulens.analysis.EffectDecomposition.Parts actual = org.solulens.analysis.EffectDecomposition.run(gpu, cleanGpu, Ablation.zero(site));
                for (int i = 0; i < expected.total().length; i++) {
                    double e = expected.direct()[i], a = actual.direct()[i];
                    assertTrue(Math.abs(e - a) <= tolerance(e), kind + " " + site + " direct, pair " + i + ": cpu " + e + ", device " + a);
                    double lnFinalFrozenCpu = e + expected.viaMlpLn()[i], lnFinalFrozenGpu = a + actual.viaMlpLn()[i];
                    assertTrue(Math.abs(lnFinalFrozenCpu - lnFinalFrozenGpu) <= tolerance(lnFinalFrozenCpu),
                            kind + " " + site + " ln_final frozen, pair " + i + ": cpu " + lnFinalFrozenCpu + ", device " + lnFinalFrozenGpu);
                    assertTrue(Math.abs(expected.total()[i] - actual.total()[i]) <= tolerance(expected.total()[i]), kind + " total, pair " + i);
                }
            }
        }
    }

    /**
     * Logits 150 times larger than usual: the clean distribution has probabilities far below float32's smallest
     * (which the kernel's first version multiplied as zeros: it returned -Infinity here), and ablations move logits by
     * more than 64 in base 2, so the kernel's bounds send these blocks to the running maximum. Every variant must stay
     * within the project's bound.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void hugeLogitsAndLogitChangesStayAccurateOnEveryKernel(String kind) {
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 263, ActivationFunction.SOLU_LN);
        SoluModel random = TestModels.random(cfg, 16);
        org.solulens.model.SoluWeights w = random.weights();
        float[] wU = new float[w.wU.size()];
        for (int i = 0; i < wU.length; i++) {
            wU[i] = 150 * w.wU.get(i);
        }
        SoluModel model = TestModels.withTensor(random, org.solulens.model.Tensor.of(w.wU.name(), w.wU.shape(), wU));
        CpuBackend cpu = new CpuBackend(model);
        int[] tokens = TestModels.randomTokens(new Random(16), 9, cfg.dVocab());
        ForwardResult cleanCpu = cpu.run(tokens, Hooks.available(cfg));
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            ForwardResult cleanGpu = gpu.run(tokens, Hooks.available(cfg));
            for (Ablation ablation : List.of(Ablation.zero(Ablation.Site.POST), Ablation.zero(Ablation.Site.MID))) {
                SweepResult expected = cpu.sweep(cleanCpu, new SweepRequest(ablation, SweepMethod.EXACT, null, false));
                double largest = 0;
                for (double e : expected.delta()) {
                    largest = Math.max(largest, Math.abs(e));
                }
                // Δ ≤ max_v d - d_t, so some |d| is above Δ / 2 = 44.4 nats = 64 in base 2: past the shift-free limit
                assertTrue(largest > 88.8, ablation.label() + ": some ablation must change the loss by more than 88.8 nats, not " + largest);
                for (SweepKernel kernel : SweepKernel.values()) {
                    gpu.useSweepKernel(kernel);
                    SweepResult actual = gpu.sweep(cleanGpu, new SweepRequest(ablation, SweepMethod.EXACT, null, false));
                    for (int i = 0; i < expected.delta().length; i++) {
                        double e = expected.delta()[i], a = actual.delta()[i];
                        assertTrue(Math.abs(e - a) <= tolerance(e),
                                kind + " " + kernel + " " + ablation.label() + " pair " + i + ": cpu " + e + ", device " + a);
                    }
                }
            }
        }
    }

    /**
     * On the trained demo model one neuron (361) dominates many positions, and ablating it at site mid rescales the
     * whole MLP output: with the unembeddings and Gram products accumulated in float32 its errors were twice the bound.
     */
    @ParameterizedTest
    @MethodSource("devices")
    void theTrainedDemoModelStaysWithinTheBoundAtBothSites(String kind) {
        try (SoluModel model = org.solulens.model.DemoModel.load(); GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            CpuBackend cpu = new CpuBackend(model);
            List<int[]> prompts = List.of(model.tokenize("the class had to answer every question on the test by the end of the hour", true),
                    model.tokenize("the children play in the snow near the old house", true),
                    // zeroing its strongest neurons at mid, the MLP LayerNorm amplifies by ~1/sqrt(eps) (logits move by hundreds)
                    model.tokenize("in the morning the farm is quiet and the horse stands near the gate", true));
            for (Ablation ablation : List.of(Ablation.zero(Ablation.Site.MID), Ablation.zero(Ablation.Site.POST))) {
                SweepRequest request = new SweepRequest(ablation, SweepMethod.EXACT, null, false);
                List<SweepResult> actual = gpu.sweep(gpu.run(prompts, Hooks.available(model.config())), java.util.Collections.nCopies(prompts.size(), request));
                for (int p = 0; p < prompts.size(); p++) {
                    SweepResult expected = cpu.sweep(cpu.run(prompts.get(p), Hooks.available(model.config())), request);
                    for (int i = 0; i < expected.delta().length; i++) {
                        double e = expected.delta()[i], a = actual.get(p).delta()[i];
                        assertTrue(Math.abs(e - a) <= tolerance(e), kind + " " + ablation.label() + " prompt " + p + " pair " + i + ": cpu " + e + ", device " + a);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void theBatchedReforwardBaselineOnTheDeviceAgreesWithTheExactSweep(String kind) {
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 263, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 14);
        CpuBackend cpu = new CpuBackend(model);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            int[] tokens = TestModels.randomTokens(new Random(14), 6, cfg.dVocab());
            SweepResult expected = cpu.sweep(cpu.run(tokens, Hooks.available(cfg)),
                    new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false));
            SweepResult baseline = gpu.sweep(gpu.run(tokens, Hooks.available(cfg)),
                    new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.REFORWARD, null, false));
            for (int i = 0; i < expected.delta().length; i++) {
                // float32 logits and loss of a whole re-forward: ~1e-5 absolute
                assertEquals(expected.delta()[i], baseline.delta()[i], 2e-5 + 1e-4 * Math.abs(expected.delta()[i]), kind + " pair " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void selectionsLeaveUnselectedPairsNaN(String kind) {
        ModelConfig cfg = TestModels.config(8, 40, 2, 4, 8, 97, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 12);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            ForwardResult clean = gpu.run(new int[] {5, 9, 13, 2, 70}, Hooks.available(cfg));
            boolean[] mask = new boolean[4 * 40];
            mask[7] = mask[3 * 40 + 39] = true;
            SweepResult r = gpu.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, mask, false));
            for (int i = 0; i < mask.length; i++) {
                assertEquals(!mask[i], Double.isNaN(r.delta()[i]), "pair " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void severalPromptsShareOneLaunchAndMatchTheCpuPromptByPrompt(String kind) {
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 263, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 15);
        CpuBackend cpu = new CpuBackend(model);
        Random random = new Random(15);
        List<int[]> prompts = List.of(TestModels.randomTokens(random, 7, 263), TestModels.randomTokens(random, 2, 263),
                TestModels.randomTokens(random, 1, 263), TestModels.randomTokens(random, 10, 263));
        boolean[] mask = new boolean[9 * 45];
        for (int i = 0; i < mask.length; i += 7) {
            mask[i] = true;
        }
        for (Ablation ablation : List.of(Ablation.zero(Ablation.Site.POST), Ablation.zero(Ablation.Site.MID))) {
            List<SweepResult> expected = new java.util.ArrayList<>();
            List<SweepRequest> requests = new java.util.ArrayList<>();
            for (int[] tokens : prompts) {
                requests.add(new SweepRequest(ablation, SweepMethod.EXACT, tokens.length == 10 ? mask : null, false));
                expected.add(cpu.sweep(cpu.run(tokens, Hooks.available(cfg)), requests.get(requests.size() - 1)));
            }
            // plenty of memory: one launch for all 6 + 1 + 0 + 9 = 16 positions; then memory for 5 positions a chunk
            // (GpuSweep uses half the free memory), so that chunks end inside prompts and span several: 4 launches
            long perPosition = GpuSweep.bytesPerPosition(cfg);
            for (long free : new long[] {Long.MAX_VALUE, 2 * 5 * perPosition}) {
                InstrumentedDevice device = new InstrumentedDevice(DeviceTesting.open(kind), free);
                try (GpuBackend gpu = new GpuBackend(model, device)) {
                    List<SweepResult> actual = gpu.sweep(gpu.run(prompts, Hooks.available(cfg)), requests);
                    assertEquals(free == Long.MAX_VALUE ? 1 : 4, device.launches("sweep_forward"), "sweep_forward launches");
                    for (int p = 0; p < prompts.size(); p++) {
                        double[] e = expected.get(p).delta(), a = actual.get(p).delta();
                        assertEquals(e.length, a.length, "prompt " + p);
                        for (int i = 0; i < e.length; i++) {
                            assertEquals(Double.isNaN(e[i]), Double.isNaN(a[i]), "prompt " + p + " pair " + i);
                            assertTrue(Double.isNaN(e[i]) || Math.abs(e[i] - a[i]) <= tolerance(e[i]),
                                    kind + " " + ablation.label() + " prompt " + p + " pair " + i + ": cpu " + e[i] + ", device " + a[i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void dlaOnTheDeviceMatchesTheCpu(String kind) {
        ModelConfig cfg = TestModels.config(16, 45, 2, 8, 12, 101, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 13);
        CpuBackend cpu = new CpuBackend(model);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            int[] tokens = TestModels.randomTokens(new Random(13), 9, cfg.dVocab());
            for (boolean tl : new boolean[] {false, true}) {
                org.solulens.backend.DlaResult expected = cpu.dla(cpu.run(tokens, Hooks.available(cfg)), tl);
                org.solulens.backend.DlaResult actual = gpu.dla(gpu.run(tokens, Hooks.available(cfg)), tl);
                assertArrayEquals(expected.mlp(), actual.mlp(), 1e-4, "MLP DLA");
                assertArrayEquals(expected.neuron(), actual.neuron(), 1e-4, "neuron DLA");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void transformerLensSweepsMatchOnTheDevice(String kind) throws IOException {
        try (SoluModel model = ModelFolder.load(TlReference.modelDir()); GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            ForwardResult clean = gpu.run(TlReference.tokens(1), Hooks.available(model.config()));
            for (String[] c : new String[][] {{"sweep_post_zero.npy", "post"}, {"sweep_mid_zero.npy", "mid"}}) {
                Npy.Array expected = Npy.read(TlReference.promptDir(1).resolve(c[0]));
                SweepResult r = gpu.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.parse(c[1])), SweepMethod.EXACT, null, false));
                assertArrayEquals(expected.shape(), new int[] {r.positions(), r.dMlp()});
                for (int i = 0; i < expected.data().length; i++) {
                    assertEquals(expected.data()[i], r.delta()[i], 1e-5 + 1e-4 * Math.abs(expected.data()[i]), kind + " " + c[0] + " " + i);
                }
            }
        }
    }
}

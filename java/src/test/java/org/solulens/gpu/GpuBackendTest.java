package org.solulens.gpu;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.ModelFolder;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;
import org.solulens.testing.TlReference;

/** The GPU backend's whole forward pass (kernels orchestrated over a Device) against the CPU backend. */
@Tag("device")
class GpuBackendTest {
    /** The project's bounds for float32 kernels against the float64 CPU path. */
    private static final double LOGIT_TOLERANCE = 1e-4, LOSS_TOLERANCE = 1e-5;

    static java.util.stream.Stream<String> devices() {
        return DeviceTesting.devices();
    }

    private static void assertMatches(ForwardResult cpu, ForwardResult gpu, String what) {
        double[] a = cpu.get(Hooks.LOGITS).data(), b = gpu.get(Hooks.LOGITS).data();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], LOGIT_TOLERANCE, what + " logit " + i);
        }
        assertEquals(cpu.loss().length, gpu.loss().length);
        for (int p = 0; p < cpu.loss().length; p++) {
            assertEquals(cpu.loss()[p], gpu.loss()[p], LOSS_TOLERANCE, what + " loss " + p);
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void forwardMatchesTheCpuOnRandomModelsOfEveryActivation(String kind) {
        Random rng = new Random(7);
        for (ActivationFunction act : ActivationFunction.values()) {
            ModelConfig cfg = TestModels.config(24, 40, 3, 8, 12, 97, act);
            SoluModel model = TestModels.random(cfg, act.ordinal() + 1);
            try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
                CpuBackend cpu = new CpuBackend(model);
                for (int length : new int[] {1, 5, 12}) {
                    int[] tokens = TestModels.randomTokens(rng, length, cfg.dVocab());
                    ForwardResult c = cpu.run(tokens, Hooks.ALL.stream().filter(h -> Hooks.available(cfg).contains(h)).toList());
                    ForwardResult g = gpu.run(tokens, Hooks.available(cfg));
                    assertMatches(c, g, act.tlName() + " length " + length);
                    for (String hook : Hooks.available(cfg)) {
                        assertArrayEquals(c.get(hook).shape(), g.get(hook).shape(), hook);
                        double[] x = c.get(hook).data(), y = g.get(hook).data();
                        for (int i = 0; i < x.length; i++) {
                            double tol = 1e-4 * Math.max(1, Math.abs(x[i]));
                            assertTrue(Double.isInfinite(x[i]) ? x[i] == y[i] : Math.abs(x[i] - y[i]) <= tol,
                                    act.tlName() + " " + hook + "[" + i + "]: cpu " + x[i] + ", " + kind + " " + y[i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void packedPromptsOfDifferentLengthsGiveTheSameResultsAsOneAtATime(String kind) {
        ModelConfig cfg = TestModels.config(16, 32, 2, 8, 10, 53, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 3);
        Random rng = new Random(3);
        List<int[]> prompts = List.of(TestModels.randomTokens(rng, 10, 53), TestModels.randomTokens(rng, 1, 53),
                TestModels.randomTokens(rng, 4, 53));
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            List<ForwardResult> together = gpu.run(prompts, Hooks.available(cfg));
            for (int i = 0; i < prompts.size(); i++) {
                ForwardResult alone = gpu.run(prompts.get(i), Hooks.available(cfg));
                for (String hook : Hooks.available(cfg)) {
                    assertArrayEquals(alone.get(hook).data(), together.get(i).get(hook).data(), 1e-6, "prompt " + i + " " + hook);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void transformerLensReferenceHooksMatchOnTheDevice(String kind) throws IOException {
        try (SoluModel model = ModelFolder.load(TlReference.modelDir()); GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind))) {
            for (int prompt = 0; prompt < 2; prompt++) {
                ForwardResult r = gpu.run(TlReference.tokens(prompt), Hooks.available(model.config()));
                for (String hook : Hooks.ALL) {
                    Path file = TlReference.promptDir(prompt).resolve(hook + ".npy");
                    if (!Files.exists(file)) {
                        continue;
                    }
                    float[] expected = Npy.read(file).data();
                    double[] actual = r.get(hook).data();
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], actual[i], hook.equals(Hooks.LOSS) ? 1e-5 : 1e-4, kind + " " + hook + "[" + i + "]");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void repeatedForwardPassesDoNotLeakDeviceMemory(String kind) {
        ModelConfig cfg = TestModels.config(8, 16, 2, 4, 6, 11, ActivationFunction.SOLU_LN);
        try (GpuBackend gpu = new GpuBackend(TestModels.random(cfg, 5), DeviceTesting.open(kind))) {
            long weights = gpu.device().liveBuffers();
            assertTrue(weights > 20, "every weight is on the device");
            long[] before = gpu.device() instanceof CudaDevice c ? c.memoryInfo() : null;
            for (int i = 0; i < 1000; i++) {
                gpu.run(new int[] {1, 2, 3, 4, 5, 6}, List.of(Hooks.LOSS));
                assertEquals(weights, gpu.device().liveBuffers(), "live device buffers after run " + i);
            }
            if (before != null) {
                long[] after = ((CudaDevice) gpu.device()).memoryInfo();
                assertTrue(before[0] - after[0] < (1 << 20), "free device memory fell by " + (before[0] - after[0]) + " bytes");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void missingPromptsAreRefusedAsOnTheCpu(String kind) {
        ModelConfig cfg = TestModels.config(8, 16, 2, 4, 6, 11, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 6);
        try (GpuBackend gpu = new GpuBackend(model, DeviceTesting.open(kind)); CpuBackend cpu = new CpuBackend(model)) {
            for (var backend : List.of(gpu, cpu)) {
                IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> backend.run((int[]) null, List.of(Hooks.LOSS)));
                assertTrue(e.getMessage().startsWith("prompt is empty"), backend.name() + ": " + e.getMessage());
            }
            IllegalArgumentException second = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> gpu.run(java.util.Arrays.asList(new int[] {1, 2}, null), List.of(Hooks.LOSS)));
            assertEquals("prompt 1: prompt is empty: at least one token is needed", second.getMessage());
        }
    }
}

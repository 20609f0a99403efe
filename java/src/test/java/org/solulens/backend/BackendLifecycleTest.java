package org.solulens.backend;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/**
 * A closed backend refuses every call with a clear error and closing twice is harmless. The emulator backend used
 * to crash the JVM here (its weights were freed and the next launch handed null pointers to native code), and a
 * closed CPU backend silently kept working.
 */
class BackendLifecycleTest {
    private static final ModelConfig CFG = TestModels.config(16, 32, 2, 8, 12, 41, ActivationFunction.SOLU_LN);

    @ParameterizedTest
    @EnumSource(value = Backends.Choice.class, names = {"CPU", "EMULATOR"})
    void sweepsFromFourThreadsAtOnceEqualTheSequentialOnes(Backends.Choice choice) throws Exception {
        // the emulator backend threw ConcurrentModificationException here (its sweep constants were made unguarded)
        SoluModel model = TestModels.random(CFG, 7);
        try (Backend backend = Backends.create(model, choice)) {
            List<int[]> prompts = new java.util.ArrayList<>();
            Random rng = new Random(8);
            for (int i = 0; i < 4; i++) {
                prompts.add(TestModels.randomTokens(rng, 6 + i, CFG.dVocab()));
            }
            Ablation.Site[] sites = {Ablation.Site.POST, Ablation.Site.MID, Ablation.Site.POST, Ablation.Site.MID};
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<double[]>> futures = new java.util.ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    int k = i;
                    futures.add(pool.submit(() -> sweep(backend, prompts.get(k), sites[k])));
                }
                for (int i = 0; i < 4; i++) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(sweep(backend, prompts.get(i), sites[i]), futures.get(i).get(),
                            0, "prompt " + i);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static double[] sweep(Backend backend, int[] tokens, Ablation.Site site) {
        ForwardResult clean = backend.run(tokens, Hooks.ALL);
        return backend.sweep(clean, new SweepRequest(Ablation.zero(site), SweepMethod.EXACT, null, false)).delta();
    }

    @ParameterizedTest
    @EnumSource(value = Backends.Choice.class, names = {"CPU", "EMULATOR"})
    void everyCallAfterCloseIsAnIllegalStateAndCloseIsIdempotent(Backends.Choice choice) {
        SoluModel model = TestModels.random(CFG, 5);
        int[] tokens = TestModels.randomTokens(new Random(6), 9, CFG.dVocab());
        Backend backend = Backends.create(model, choice);
        ForwardResult clean = backend.run(tokens, Hooks.ALL);
        SweepRequest request = new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false);
        backend.sweep(clean, request);
        backend.close();

        List<Executable> calls = List.of(
                () -> backend.run(tokens, Hooks.ALL),
                () -> backend.run(List.of(tokens, tokens), List.of(Hooks.LOSS)),
                () -> backend.sweep(clean, request),
                () -> backend.sweep(List.of(clean), List.of(request)),
                () -> backend.dla(clean, false),
                () -> backend.ablatePositions(clean, Ablation.zero(Ablation.Site.MID)));
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().contains("backend is closed"), e.getMessage());
        }
        assertDoesNotThrow(backend::close);
        assertEquals(CFG, backend.model().config(), "model() still answers after close");
    }
}

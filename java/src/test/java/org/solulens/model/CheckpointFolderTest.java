package org.solulens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.hub.HubCache;
import org.solulens.testing.PthFixtures;
import org.solulens.testing.TestModels;

/** Hub snapshots (trainer config.json + model_final.pth) load as the same model as SoluLens's own folder format. */
class CheckpointFolderTest {
    @TempDir
    Path tmp;

    @Test
    void aSnapshotIsTheSameModelAsItsSafetensorsTwinToTheLastBit() throws IOException {
        try (SoluModel pth = ModelFolder.load(PthFixtures.fixture("solu-small"));
             SoluModel reference = ModelFolder.load(PthFixtures.fixture("solu-small-reference"))) {
            assertEquals(reference.weights().byName().keySet(), pth.weights().byName().keySet());
            for (String name : reference.weights().byName().keySet()) {
                assertArrayEquals(reference.weights().byName().get(name).toArray(), pth.weights().byName().get(name).toArray(), 0f, name);
            }
            ModelConfig a = pth.config(), b = reference.config();
            assertEquals(b.dModel(), a.dModel());
            assertEquals(b.actFn(), a.actFn());
            assertEquals(b.eps(), a.eps(), 0);
            assertEquals(b.attnScale(), a.attnScale(), 0);
            int[] tokens = TestModels.randomTokens(new Random(5), 9, a.dVocab());
            ForwardResult x = new CpuBackend(pth).run(tokens, java.util.List.of(Hooks.LOGITS));
            ForwardResult y = new CpuBackend(reference).run(tokens, java.util.List.of(Hooks.LOGITS));
            assertArrayEquals(y.get(Hooks.LOGITS).data(), x.get(Hooks.LOGITS).data(), 0, "float64 forward, logits");
            assertTrue(pth.notes().stream().anyMatch(n -> n.contains("defaulted") && n.contains("eps = 1.0E-5")), pth.notes().toString());
            assertNull(pth.tokenizer());
        }
    }

    @Test
    void gelu1lShapedSnapshotsRunAtSitePostAndRefuseSiteMid() throws IOException {
        try (SoluModel gelu = ModelFolder.load(PthFixtures.fixture("gelu-small"))) {
            assertEquals(ActivationFunction.GELU, gelu.config().actFn());
            CpuBackend cpu = new CpuBackend(gelu);
            ForwardResult clean = cpu.run(new int[] {1, 5, 9, 40, 2}, Hooks.available(gelu.config()));
            double[] delta = cpu.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, null, false)).delta();
            assertEquals(4 * 40, delta.length);
            assertTrue(java.util.Arrays.stream(delta).allMatch(Double::isFinite));
            IllegalArgumentException mid = assertThrows(IllegalArgumentException.class,
                    () -> new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false).requiredHooks(gelu.config()));
            assertTrue(mid.getMessage().contains("mid"), mid.getMessage());
        }
    }

    @Test
    void theHubCacheFindsRefsMainTheNewestSnapshotOrANamedRevisionAndSaysHowToFetchWhatIsMissing() throws IOException {
        Path repo = tmp.resolve("models--NeelNanda--SoLU_1L512W_C4_Code");
        Path older = Files.createDirectories(repo.resolve("snapshots/aaa111")), newer = Files.createDirectories(repo.resolve("snapshots/bbb222"));
        Files.setLastModifiedTime(older, FileTime.fromMillis(1_000_000));
        Files.setLastModifiedTime(newer, FileTime.fromMillis(2_000_000));
        HubCache cache = new HubCache(tmp);
        assertEquals(newer, cache.snapshot("NeelNanda/SoLU_1L512W_C4_Code", null).orElseThrow());
        assertEquals(older, cache.snapshot("NeelNanda/SoLU_1L512W_C4_Code", "aaa111").orElseThrow());
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), "aaa111\n");
        assertEquals(older, cache.snapshot("NeelNanda/SoLU_1L512W_C4_Code", null).orElseThrow());
        ModelFormatException missing = assertThrows(ModelFormatException.class,
                () -> cache.requireSnapshot("NeelNanda/GELU_1L512W_C4_Code", null, "config.json model_final.pth"));
        assertTrue(missing.getMessage().contains("huggingface-cli download NeelNanda/GELU_1L512W_C4_Code config.json model_final.pth"),
                missing.getMessage());
    }
}

package org.solulens.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The streamed reduction against every full sweep of a small corpus kept in memory and reduced naively. */
class CorpusSweepTest {
    @TempDir
    Path tmp;

    private final ModelConfig cfg = TestModels.config(16, 24, 2, 8, 12, 61, ActivationFunction.SOLU_LN);
    private final SoluModel model = TestModels.random(cfg, 31);

    /** A JSONL corpus of token documents of random lengths. */
    private Path corpus(int documents, long seed) throws IOException {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder();
        for (int d = 0; d < documents; d++) {
            int[] t = TestModels.randomTokens(r, 1 + r.nextInt(20), cfg.dVocab());
            b.append("{\"tokens\": ").append(java.util.Arrays.toString(t)).append("}\n");
        }
        return Files.writeString(tmp.resolve("corpus.jsonl"), b.toString());
    }

    private CorpusSweep.Settings settings(int batch, boolean perDocument, Ablation.Site site) {
        return new CorpusSweep.Settings(Ablation.zero(site), SweepMethod.EXACT, 9, perDocument, 0, 5, 0.05, batch, false);
    }

    @Test
    void statisticsEqualANaiveReductionOfEveryFullSweepAndDoNotDependOnBatching() throws IOException {
        Path data = corpus(30, 7);
        for (Ablation.Site site : Ablation.Site.values()) {
            for (boolean perDocument : new boolean[] {false, true}) {
                CorpusStats one = CorpusSweep.run(new CpuBackend(model), data, settings(1, perDocument, site), null, false, 60, true).stats();
                CorpusStats four = CorpusSweep.run(new CpuBackend(model), data, settings(4, perDocument, site), null, false, 60, true).stats();
                String where = site + (perDocument ? " per document" : " packed");
                assertIdentical(one, four, where);
                assertMatchesNaive(one, data, settings(1, perDocument, site), where);
            }
        }
    }

    private static void assertIdentical(CorpusStats a, CorpusStats b, String where) {
        assertEquals(a.positions(), b.positions(), where);
        for (int n = 0; n < a.neurons(); n++) {
            assertEquals(a.mean(n), b.mean(n), 0, where + " mean, neuron " + n);
            assertEquals(a.std(n), b.std(n), 0, where + " std, neuron " + n);
            assertEquals(a.correlation(n), b.correlation(n), 0, where + " correlation, neuron " + n);
            assertArrayEquals(a.histogram(n), b.histogram(n), where);
            assertEquals(keys(a.top(n)), keys(b.top(n)), where + " top, neuron " + n);
            assertEquals(keys(a.mostActive(n)), keys(b.mostActive(n)), where);
        }
    }

    private static List<String> keys(List<Example> examples) {
        return examples.stream().map(e -> e.window() + ":" + e.windowPosition() + ":" + e.delta()).toList();
    }

    /** Every window swept in full, kept, and reduced with plain loops and a full sort. */
    private void assertMatchesNaive(CorpusStats s, Path data, CorpusSweep.Settings settings, String where) throws IOException {
        CpuBackend cpu = new CpuBackend(model);
        List<Window> windows = new ArrayList<>();
        try (CorpusReader reader = CorpusReader.open(data, model, false)) {
            new WindowPacker(reader, settings.window(), 0, 0, settings.perDocument(), 0).forEachRemaining(windows::add);
        }
        int N = cfg.dMlp();
        String hook = settings.ablation().site() == Ablation.Site.MID ? Hooks.MLP_MID : Hooks.MLP_POST;
        List<double[]> deltas = new ArrayList<>(), acts = new ArrayList<>();
        for (Window w : windows) {
            ForwardResult clean = cpu.run(w.tokens(), Hooks.available(cfg));
            deltas.add(cpu.sweep(clean, new SweepRequest(settings.ablation(), SweepMethod.EXACT, null, false)).delta());
            acts.add(clean.get(hook).data());
        }
        long count = deltas.stream().mapToLong(d -> d.length / N).sum();
        assertEquals(count, s.positions(), where);
        for (int n = 0; n < N; n++) {
            double sum = 0, sumAbs = 0, sumSq = 0, sa = 0, saa = 0, sad = 0, max = Double.NEGATIVE_INFINITY;
            List<Example> all = new ArrayList<>();
            for (int w = 0; w < windows.size(); w++) {
                double[] d = deltas.get(w), a = acts.get(w);
                for (int p = 0; p < d.length / N; p++) {
                    double x = d[p * N + n], y = a[p * N + n];
                    sum += x;
                    sumAbs += Math.abs(x);
                    sumSq += x * x;
                    sa += y;
                    saa += y * y;
                    sad += x * y;
                    max = Math.max(max, x);
                    all.add(new Example(n, windows.get(w).index(), p, 0, 0, x, y, 0, null, null));
                }
            }
            double mean = sum / count, std = Math.sqrt(sumSq / count - mean * mean);
            double r = (count * sad - sa * sum) / Math.sqrt((count * saa - sa * sa) * (count * sumSq - sum * sum));
            assertEquals(mean, s.mean(n), 1e-12 * Math.max(1e-3, Math.abs(mean)) , where + " mean, neuron " + n);
            assertEquals(sumAbs / count, s.meanAbs(n), 1e-12 * sumAbs / count, where + " mean |Δ|, neuron " + n);
            assertEquals(std, s.std(n), 1e-9 * std, where + " std, neuron " + n);
            assertEquals(r, s.correlation(n), 1e-9, where + " correlation, neuron " + n);
            assertEquals(max, s.max(n), 0, where);
            all.sort(Example::byDeltaDescending);
            assertEquals(keys(all.subList(0, 5)), keys(s.top(n)), where + " top-5, neuron " + n);
            all.sort(Example::byDeltaAscending);
            assertEquals(keys(all.subList(0, 5)), keys(s.bottom(n)), where + " bottom-5, neuron " + n);
            all.sort(Comparator.comparingDouble((Example e) -> -e.activation()).thenComparingLong(Example::window).thenComparingInt(Example::windowPosition));
            assertEquals(keys(all.subList(0, 5)), keys(s.mostActive(n)), where + " most active, neuron " + n);
        }
    }

    @Test
    void severalWorkersGiveTheResultsOfOneOnTheCpuAndOnTwoEmulatedDevices() throws IOException {
        Path data = corpus(16, 13);
        CorpusSweep.Settings s = settings(3, false, Ablation.Site.POST);
        CorpusStats one = CorpusSweep.run(new CpuBackend(model), data, s, null, false, 60, true).stats();
        CorpusStats three = CorpusSweep.run(List.of(new CpuBackend(model), new CpuBackend(model), new CpuBackend(model)), data, s, null, false, 60,
                true).stats();
        assertIdentical(one, three, "three CPU workers");
        try (org.solulens.gpu.GpuBackend a = new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice());
             org.solulens.gpu.GpuBackend b = new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice());
             org.solulens.gpu.GpuBackend c = new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice())) {
            CorpusStats single = CorpusSweep.run(a, data, s, null, false, 60, true).stats();
            CorpusStats two = CorpusSweep.run(List.of(b, c), data, s, null, false, 60, true).stats();
            assertIdentical(single, two, "two emulated devices");
            for (int n = 0; n < cfg.dMlp(); n++) {
                assertEquals(one.mean(n), single.mean(n), 2e-6 + 1e-4 * Math.abs(one.mean(n)), "emulator (float32) against the CPU, neuron " + n);
            }
        }
    }

    /** The fold kernel (cuda/corpus.cu, on the emulator) against its CPU twin, CorpusStats.add, on the very same Δloss. */
    @Test
    void theDeviceFoldMatchesItsCpuTwinOnTheSameDeltas() throws IOException {
        Path data = corpus(12, 17);
        for (Ablation.Site site : Ablation.Site.values()) {
            CorpusSweep.Settings s = settings(1, false, site);
            SweepRequest request = new SweepRequest(s.ablation(), SweepMethod.EXACT, null, false);
            String hook = site == Ablation.Site.MID ? Hooks.MLP_MID : Hooks.MLP_POST;
            CorpusStats host = new CorpusStats(cfg.dMlp(), s.k(), s.threshold()), device = new CorpusStats(cfg.dMlp(), s.k(), s.threshold());
            try (org.solulens.gpu.GpuBackend gpu = new org.solulens.gpu.GpuBackend(model, new org.solulens.gpu.EmulatedDevice());
                 CorpusReader reader = CorpusReader.open(data, model, false)) {
                WindowPacker packer = new WindowPacker(reader, s.window(), 0, 0, false, 0);
                while (packer.hasNext()) {
                    Window w = packer.next();
                    ForwardResult clean = gpu.run(w.tokens(), Hooks.available(cfg));
                    double[] act = clean.get(hook).data(), whole = gpu.ablatePositions(clean, Ablation.zero(site));
                    host.add(w, gpu.sweep(clean, request).delta(), act, whole);
                    device.addPartial(w, gpu.sweepOnDevice(clean, request, new DeviceFold(act, s.threshold(), s.k())), act, whole);
                }
            }
            for (int n = 0; n < cfg.dMlp(); n++) {
                String where = site + ", neuron " + n;
                assertEquals(host.mean(n), device.mean(n), 1e-15 * Math.abs(host.mean(n)) + 1e-300, where);
                assertEquals(host.meanAbs(n), device.meanAbs(n), 1e-15 * host.meanAbs(n), where);
                assertEquals(host.std(n), device.std(n), 1e-12 * host.std(n), where);
                assertEquals(host.correlation(n), device.correlation(n), 1e-12, where);
                assertEquals(host.min(n), device.min(n), 0, where);
                assertEquals(host.max(n), device.max(n), 0, where);
                assertEquals(host.activationMax(n), device.activationMax(n), 0, where);
                assertEquals(host.fractionAbove(n), device.fractionAbove(n), 0, where);
                assertArrayEquals(host.histogram(n), device.histogram(n), where);
                assertEquals(keys(host.top(n)), keys(device.top(n)), where);
                assertEquals(keys(host.bottom(n)), keys(device.bottom(n)), where);
                assertEquals(keys(host.mostActive(n)), keys(device.mostActive(n)), where);
                for (int i = 0; i < host.top(n).size(); i++) {
                    assertArrayEquals(host.top(n).get(i).contextDeltas(), device.top(n).get(i).contextDeltas(), 0, where + " context");
                    assertArrayEquals(host.top(n).get(i).context(), device.top(n).get(i).context(), where + " context tokens");
                }
            }
        }
    }

    @Test
    void aCheckpointResumesToTheSameResultAndOneFromOtherSettingsIsRefused() throws IOException {
        Path data = corpus(30, 9);
        Path checkpoint = tmp.resolve("state");
        CorpusStats whole = CorpusSweep.run(new CpuBackend(model), data, settings(2, false, Ablation.Site.POST), null, false, 60, true).stats();
        // a run stopped after its first windows: replay that by writing the checkpoint of a partial fold
        CorpusSweep.Settings s = settings(2, false, Ablation.Site.POST);
        CorpusStats partial = new CorpusStats(cfg.dMlp(), s.k(), s.threshold());
        CpuBackend cpu = new CpuBackend(model);
        try (CorpusReader reader = CorpusReader.open(data, model, false)) {
            WindowPacker packer = new WindowPacker(reader, s.window(), 0, 0, false, 0);
            for (int i = 0; i < 5; i++) {
                Window w = packer.next();
                ForwardResult clean = cpu.run(w.tokens(), Hooks.available(cfg));
                partial.add(w, cpu.sweep(clean, new SweepRequest(s.ablation(), s.method(), null, false)).delta(), clean.get(Hooks.MLP_POST).data(),
                        cpu.ablatePositions(clean, Ablation.zero(Ablation.Site.POST)));
            }
        }
        CorpusCheckpoint.write(checkpoint, CorpusCheckpoint.snapshot(CorpusSweep.fingerprint(model, s, data), partial));
        CorpusSweep.Result resumed = CorpusSweep.run(new CpuBackend(model), data, s, checkpoint, true, 60, true);
        assertEquals(5, resumed.resumedWindows());
        assertIdentical(whole, resumed.stats(), "resumed");

        // a checkpoint that cannot be written (here: its place is a folder) is an error, and the previous one stays valid
        Path blocked = Files.createDirectories(tmp.resolve("blocked.tmp"));
        Files.writeString(blocked.resolve("x"), "in the way");
        IOException full = assertThrows(IOException.class, () -> CorpusCheckpoint.write(tmp.resolve("blocked"), new byte[] {1, 2, 3}));
        assertTrue(full.getMessage().contains("could not write the checkpoint"), full.getMessage());
        CorpusCheckpoint.write(checkpoint, CorpusCheckpoint.snapshot(CorpusSweep.fingerprint(model, s, data), partial));
        Files.createDirectories(tmp.resolve("state.tmp")).resolve("x").toFile().createNewFile();
        assertThrows(IOException.class, () -> CorpusCheckpoint.write(checkpoint, new byte[] {9}));
        assertEquals(5, CorpusCheckpoint.read(checkpoint, CorpusSweep.fingerprint(model, s, data)).windows(), "the previous checkpoint is intact");

        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> CorpusSweep.run(new CpuBackend(model), data, settings(2, false, Ablation.Site.MID), checkpoint, true, 60, true));
        assertTrue(other.getMessage().contains("another settings"), other.getMessage());
        Files.writeString(data, "{\"tokens\": [1, 2, 3]}\n", java.nio.file.StandardOpenOption.APPEND);
        other = assertThrows(IllegalArgumentException.class, () -> CorpusSweep.run(new CpuBackend(model), data, s, checkpoint, true, 60, true));
        assertTrue(other.getMessage().contains("another corpus"), other.getMessage());
    }

    @Test
    void badInputNamesFileAndLineOrIsSkippedAndCounted() throws IOException {
        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"tokens\": [1, 2, 3, 4]}\n{\"tokens\": [1, 999]}\nnot json\n{\"tokens\": []}\n"
                + "{\"tokens\": [5, 6, 7, 8, 9, 10, 11, 12, 13]}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CorpusSweep.run(new CpuBackend(model), bad, settings(1, true, Ablation.Site.POST), null, false, 60, true));
        assertTrue(e.getMessage().contains("bad.jsonl, line 2") && e.getMessage().contains("token id 999"), e.getMessage());
        CorpusSweep.Settings skipping = new CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 9, true, 0, 5, 0.05, 1, true);
        CorpusSweep.Result r = CorpusSweep.run(new CpuBackend(model), bad, skipping, null, false, 60, true);
        assertEquals(3, r.skipped());
        assertTrue(r.firstSkip().startsWith("line 2"), r.firstSkip());
        assertEquals(4 + 8, r.stats().positions(), "two documents: BOS + 4 and BOS + 8 (truncated) tokens");

        Path floats = tmp.resolve("floats.npy");
        org.solulens.io.Npy.writeFloat32(floats, new int[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        e = assertThrows(IllegalArgumentException.class, () -> CorpusReader.open(floats, model, false));
        assertTrue(e.getMessage().contains("token ids must be integers") || e.getCause() != null, e.getMessage());
    }
}

package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.backend.SweepMethod;
import org.solulens.backend.SweepRequest;
import org.solulens.backend.SweepResult;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/** The sweep command on the demo model: its files hold what the library computes. */
class SweepCliTest {
    private static final String PROMPT = "the ice is cold and the water is warm";

    @TempDir
    Path tmp;

    private static CliRunner.Outcome run(String... args) {
        return CliRunner.run(args);
    }

    @Test
    void severalPromptsOnTheEmulatorGiveTheCpuNumbersInOneFolderEach() throws IOException {
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, PROMPT + "\nthe sun is hot\nin the beginning god created the heaven and the earth\n");
        for (String device : List.of("cpu", "emulator")) {
            CliRunner.Outcome o = run("sweep", "--prompts", prompts.toString(), "--select", "lowest:5%", "--device", device,
                    "--out", tmp.resolve(device).toString(), "--quiet");
            assertEquals(0, o.code(), o.err());
        }
        for (int p = 0; p < 3; p++) {
            Npy.Array cpu = Npy.read(tmp.resolve("cpu").resolve(p + "/delta_loss.npy"));
            Npy.Array emulated = Npy.read(tmp.resolve("emulator").resolve(p + "/delta_loss.npy"));
            assertArrayEquals(cpu.shape(), emulated.shape(), "prompt " + p);
            int selected = 0;
            for (int i = 0; i < cpu.data().length; i++) {
                float c = cpu.data()[i], e = emulated.data()[i];
                assertEquals(Float.isNaN(c), Float.isNaN(e), "prompt " + p + " entry " + i + ": same selection");
                if (!Float.isNaN(c)) {
                    selected++;
                    // the float32 kernel's bound against the float64 CPU (GpuSweepTest), plus float32 rounding of the file
                    assertEquals(c, e, 2e-6 + 2e-4 * Math.abs(c), "prompt " + p + " entry " + i);
                }
            }
            assertEquals(cpu.shape()[0] * 25, selected, "prompt " + p + ": 5% of 512 neurons, rounded down, is 25 a position");
        }
    }

    @Test
    void deltaLossNpyMatchesTheLibrarySweepAndTheCsvHasOneRowPerPair() throws IOException {
        Path dir = tmp.resolve("s");
        CliRunner.Outcome o = run("sweep", "--prompt", PROMPT, "--site", "mid", "--out", dir.toString(), "--csv", "--quiet");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("mid-zero ablation, exact method, all neurons at every position: 4608 pairs"), o.out());
        ExperimentsCliTest.assertReport(dir, 2);
        assertReportNamesEveryPairAsTheCsvDoes(dir);
        Npy.Array npy = Npy.read(dir.resolve("delta_loss.npy"));
        assertArrayEquals(new int[] {9, 512}, npy.shape(), "10 tokens with BOS, 9 predicting positions");
        try (SoluModel model = DemoModel.load()) {
            CpuBackend backend = new CpuBackend(model);
            int[] tokens = model.tokenize(PROMPT, true);
            ForwardResult clean = backend.run(tokens, Hooks.ALL);
            SweepResult expected = backend.sweep(clean, new SweepRequest(Ablation.zero(Ablation.Site.MID), SweepMethod.EXACT, null, false));
            for (int i = 0; i < npy.data().length; i++) {
                assertEquals((float) expected.delta()[i], npy.data()[i], 0, "entry " + i);
            }
        }
        List<String> csv = Files.readAllLines(dir.resolve("sweep.csv"));
        assertEquals("prompt,position,token,target,neuron,activation,delta_loss", csv.get(0));
        assertEquals(1 + 9 * 512, csv.size());
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(512, summary.get("neuron_mean_delta_loss").size());
        assertEquals(20, summary.get("top_pairs_by_abs_delta_loss").size());
    }

    /** Every pair is a point of the report's cloud, with the position, tokens and neuron its CSV row gives; the pages exist. */
    private static void assertReportNamesEveryPairAsTheCsvDoes(Path dir) throws IOException {
        com.fasterxml.jackson.databind.JsonNode pairs = ExperimentsCliTest.chartSpec(dir, "sweep_delta_vs_activation.png").path("series").get(0);
        List<String> columns = new java.util.ArrayList<>();
        pairs.path("columns").forEach(c -> columns.add(c.asText()));
        assertEquals(List.of("prompt", "position", "token", "next token", "neuron"), columns);
        List<String> rows = Files.readAllLines(dir.resolve("sweep.csv"));
        assertEquals(rows.size() - 1, pairs.path("x").size(), "one point per pair");
        java.util.Map<List<String>, Double> csv = new java.util.HashMap<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] f = org.solulens.report.CsvFields.split(row);   // prompt,position,token,target,neuron,activation,delta_loss
            csv.put(List.of(f[1], f[2], f[3], f[4]), Double.parseDouble(f[6]));
        }
        com.fasterxml.jackson.databind.JsonNode v = pairs.path("values");
        for (int i = 0; i < pairs.path("x").size(); i++) {
            List<String> point = List.of(v.get(1).get(i).asText(), v.get(2).get(i).asText(), v.get(3).get(i).asText(), v.get(4).get(i).asText());
            Double delta = csv.get(point);
            assertTrue(delta != null, "point " + i + " (position, token, next token, neuron = " + point + ") is a row of sweep.csv");
            assertEquals(delta, pairs.path("y").get(i).doubleValue(), 1e-6 * Math.max(1, Math.abs(delta)), "Δloss of " + point);
            String link = pairs.path("links").get(i).asText(null);
            if (link != null) {
                assertTrue(Files.exists(dir.resolve(link)), link);
            }
        }
    }

    @Test
    void noReportWritesTheSameSweepWithoutThePageItsFiguresOrNeuronPages() throws IOException {
        Path with = tmp.resolve("with"), without = tmp.resolve("without");
        // token ids, not text: the report names such a prompt by its length
        String ids = "1,17,400,23,9,4000,77,5";
        assertEquals(0, run("sweep", "--tokens", ids, "--out", with.toString(), "--quiet").code());
        CliRunner.Outcome o = run("sweep", "--tokens", ids, "--out", without.toString(), "--quiet", "--no-report");
        assertEquals(0, o.code(), o.err());
        assertFalse(o.out().contains("report.html"), o.out());
        for (String skipped : List.of("report.html", "report-assets", "neurons", "sweep_neurons.png", "sweep_delta_vs_activation.png")) {
            assertTrue(Files.exists(with.resolve(skipped)), skipped);
            assertFalse(Files.exists(without.resolve(skipped)), skipped);
        }
        assertArrayEquals(Files.readAllBytes(with.resolve("delta_loss.npy")), Files.readAllBytes(without.resolve("delta_loss.npy")));
        assertEquals("0: 8 tokens given as ids", ExperimentsCliTest.chartSpec(with, "sweep_delta_vs_activation.png").path("series").get(0)
                .path("values").get(0).get(0).asText());
    }

    @Test
    void selectionsLeaveUnselectedPairsNaNAndSeveralPromptsGetSubfolders() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("p.txt"), PROMPT + "\nthe sun is hot\n");
        Path dir = tmp.resolve("sel");
        CliRunner.Outcome o = run("sweep", "--prompts", prompts.toString(), "--select", "lowest:10%", "--out", dir.toString(), "--quiet",
                "--ablation", "mean", "--method", "attribution");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("attribution vs exact: correlation"), o.out());
        for (String sub : List.of("0", "1")) {
            float[] d = Npy.read(dir.resolve(sub).resolve("delta_loss.npy")).data();
            int rows = d.length / 512;
            long finite = 0;
            for (float x : d) {
                finite += Float.isNaN(x) ? 0 : 1;
            }
            assertEquals(rows * 51L, finite, "floor(10% of 512) = 51 neurons per position");
            assertTrue(Files.exists(dir.resolve(sub).resolve("exact_delta_loss.npy")));
        }
    }

    @Test
    void valueAblationReadsOneValuePerNeuron() throws IOException {
        StringBuilder values = new StringBuilder();
        for (int n = 0; n < 512; n++) {
            values.append(0.01 * (n % 7) - 0.02).append('\n');
        }
        Path file = Files.writeString(tmp.resolve("values.txt"), values);
        CliRunner.Outcome o = run("sweep", "--prompt", PROMPT, "--ablation", "value", "--values", file.toString(), "--neurons", "3,200",
                "--out", tmp.resolve("v").toString(), "--quiet");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("18 pairs"), o.out());

        Path shortFile = Files.writeString(tmp.resolve("short.txt"), "0.1\n0.2\n");
        o = run("sweep", "--prompt", PROMPT, "--ablation", "value", "--values", shortFile.toString(), "--out", tmp.resolve("w").toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("needs 512 values (one per neuron), got 2"), o.err());
    }

    @Test
    void badSweepOptionsAreClearErrors() {
        String out = tmp.resolve("e").toString();
        assertError("unknown site 'pre'", "sweep", "--prompt", PROMPT, "--site", "pre", "--out", out);
        assertError("site must be post", "sweep", "--prompt", PROMPT, "--site", "mid", "--ablation", "paper", "--out", out);
        assertError("neuron 999 is out of range [0, 512)", "sweep", "--prompt", PROMPT, "--neurons", "1,999", "--out", out);
        assertError("'ten' is not a positive count", "sweep", "--prompt", PROMPT, "--select", "lowest:ten", "--out", out);
        assertError("give either --neurons or --select", "sweep", "--prompt", PROMPT, "--select", "lowest:5", "--neurons", "1", "--out", out);
        assertError("--ablation value needs --values", "sweep", "--prompt", PROMPT, "--ablation", "value", "--out", out);
        assertError("at least 2 tokens", "sweep", "--tokens", "4", "--out", out);
        assertError("the hook must be one of [pos, d_mlp]", "sweep", "--prompt", PROMPT, "--select", "lowest:5", "--by", "ln_final.hook_scale", "--out", out);
        assertError("unknown method 'fast'", "sweep", "--prompt", PROMPT, "--method", "fast", "--out", out);
    }

    private static void assertError(String fragment, String... args) {
        CliRunner.Outcome o = run(args);
        assertEquals(2, o.code(), o.out());
        assertTrue(o.err().contains(fragment), o.err());
    }
}

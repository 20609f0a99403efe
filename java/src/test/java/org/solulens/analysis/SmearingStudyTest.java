package org.solulens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The smearing study end to end on random SoLU and GELU models: its files agree with each other and with the verdict. */
class SmearingStudyTest {
    @TempDir
    Path tmp;

    @Test
    void filesTablesAndVerdictAgree() throws Exception {
        ModelConfig solu = TestModels.config(16, 40, 2, 8, 16, 61, ActivationFunction.SOLU_LN);
        ModelConfig gelu = TestModels.config(16, 40, 2, 8, 16, 61, ActivationFunction.GELU);
        Random rng = new Random(21);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prompts.add(new Prompt("p" + i, TestModels.randomTokens(rng, 5 + i, 61)));
        }
        SmearingStudy.Result r = SmearingStudy.run(new CpuBackend(TestModels.random(solu, 1)), prompts, new CpuBackend(TestModels.random(gelu, 2)),
                prompts, new SmearingStudy.Options(0.1, 500, 3), tmp, true);
        long positions = prompts.stream().mapToLong(p -> p.tokens().length - 1).sum();
        float[] total = Npy.read(tmp.resolve("solu_total.npy")).data(), direct = Npy.read(tmp.resolve("solu_direct.npy")).data();
        float[] viaMlp = Npy.read(tmp.resolve("solu_via_mlp_ln.npy")).data(), viaFinal = Npy.read(tmp.resolve("solu_via_ln_final.npy")).data();
        assertEquals(positions * 40, total.length);
        for (int i = 0; i < total.length; i++) {
            // float32 files: the parts sum to the total to float32 rounding
            assertEquals(total[i], (double) direct[i] + viaMlp[i] + viaFinal[i], 1e-6 + 1e-6 * Math.abs(total[i]), "pair " + i);
        }
        float[] geluMlp = Npy.read(tmp.resolve("gelu_via_mlp_ln.npy")).data();
        for (float v : geluMlp) {
            assertEquals(0f, v, "the GELU control has no MLP LayerNorm part");
        }
        List<String> groups = Files.readAllLines(tmp.resolve("groups.csv"));
        assertEquals(1 + positions * (2 * 3 + 3), groups.size(), "SoLU: 2 sites x 3 sets, GELU: 1 site x 3 sets, per position");
        float[] soluGroups = Npy.read(tmp.resolve("solu_groups.npy")).data();
        assertEquals(positions * 2 * 3 * 2, soluGroups.length);
        String[] first = groups.get(1).split(",");   // solu, prompt 0, position 0, mid, lowest
        assertEquals(Double.parseDouble(first[6]), soluGroups[0], 1e-6 * Math.max(1, Math.abs(soluGroups[0])));
        assertEquals(Double.parseDouble(first[7]), soluGroups[1], 1e-6 * Math.max(1, Math.abs(soluGroups[1])));
        // the summary's mean synergy is the mean of groups.csv's column, for every model, site and set
        List<String> summary = Files.readAllLines(tmp.resolve("groups_summary.csv"));
        assertEquals(1 + 9, summary.size());
        for (String line : summary.subList(1, summary.size())) {
            String[] f = line.split(",");
            double mean = groups.stream().skip(1).map(l -> l.split(",")).filter(g -> g[0].equals(f[0]) && g[3].equals(f[1]) && g[4].equals(f[2]))
                    .mapToDouble(g -> Double.parseDouble(g[8])).average().orElseThrow();
            assertEquals(mean, Double.parseDouble(f[6]), 1e-6 * Math.max(1, Math.abs(mean)), line);
            assertTrue(Double.parseDouble(f[7]) <= Double.parseDouble(f[6]) && Double.parseDouble(f[6]) <= Double.parseDouble(f[8]), line);
        }
        String md = Files.readString(tmp.resolve("smearing.md"));
        assertTrue(md.indexOf("The criterion (fixed before the numbers)") < md.indexOf("## Verdict"));
        assertTrue(md.contains(r.verdict().met() ? "meet the pre-registered criterion" : "do not meet the pre-registered criterion"), md);
        assertEquals(11, Files.readAllLines(tmp.resolve("solu_by_rank.csv")).size());
        assertEquals(41, Files.readAllLines(tmp.resolve("solu_neurons.csv")).size());
    }

    @Test
    void tooFewPromptsGiveNoVerdict() throws Exception {
        ModelConfig solu = TestModels.config(16, 40, 2, 8, 16, 61, ActivationFunction.SOLU_LN);
        List<Prompt> prompts = List.of(new Prompt("a", TestModels.randomTokens(new Random(1), 6, 61)), new Prompt("b", TestModels.randomTokens(new Random(2), 7, 61)));
        SmearingStudy.Result r = SmearingStudy.run(new CpuBackend(TestModels.random(solu, 1)), prompts, null, null, new SmearingStudy.Options(0.1, 500, 3), tmp, true);
        assertTrue(!r.verdict().met() && r.verdict().text().contains("No verdict") && r.verdict().text().contains("at least 5"), r.verdict().text());
    }

    @Test
    void aGeluModelCannotBeTheSubjectAndBadSettingsAreRefused() {
        ModelConfig gelu = TestModels.config(16, 40, 2, 8, 16, 61, ActivationFunction.GELU);
        List<Prompt> prompts = List.of(new Prompt("x", new int[] {1, 2, 3}));
        var e = assertThrows(IllegalArgumentException.class, () -> SmearingStudy.run(new CpuBackend(TestModels.random(gelu, 2)), prompts, null, null,
                new SmearingStudy.Options(0.1, 500, 1), tmp, true));
        assertTrue(e.getMessage().contains("gelu") && e.getMessage().contains("control"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SmearingStudy.Options(0, 500, 1));
        assertThrows(IllegalArgumentException.class, () -> new SmearingStudy.Options(0.1, 5, 1));
    }
}

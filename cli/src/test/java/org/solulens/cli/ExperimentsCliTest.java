package org.solulens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.analysis.PromptFamilies;
import org.solulens.backend.DlaResult;
import org.solulens.backend.ForwardResult;
import org.solulens.backend.Hooks;
import org.solulens.cpu.CpuBackend;
import org.solulens.io.Npy;
import org.solulens.model.DemoModel;
import org.solulens.model.SoluModel;

/** The paper's experiments from the command line on the demo model: their files hold consistent numbers. */
class ExperimentsCliTest {
    @TempDir
    Path tmp;

    private static String run(String... args) {
        CliRunner.Outcome o = CliRunner.run(args);
        assertEquals(0, o.code(), o.err());
        return o.out();
    }

    private static void assertPng(Path file) throws IOException {
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(file), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, file.toString());
    }

    /**
     * The command's report.html: one chart per PNG the command drew, each drawn from the figure whose PNG is beside it,
     * and the assets copied so that it opens offline.
     */
    static void assertReport(Path out, int charts) throws IOException {
        String page = Files.readString(out.resolve("report.html"));
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"chart-\\d+\">\\{\"kind\":\"[A-Z_]+\",.*?\"png\":\"([^\"]+)\"").matcher(page);
        int found = 0;
        while (m.find()) {
            assertPng(out.resolve(m.group(1)));
            found++;
        }
        assertEquals(charts, found, "charts in " + out.resolve("report.html"));
        assertEquals(found, page.split("<figure class=\"chart\"", -1).length - 1);
        for (String asset : new String[] {"echarts.min.js", "report.js", "report.css", "ECHARTS-LICENSE.txt"}) {
            assertTrue(Files.size(out.resolve("report-assets").resolve(asset)) > 0, asset);
        }
        assertTrue(Files.readString(out.resolve("report-assets/echarts.min.js")).contains("echarts"), "the charting library itself");
        assertTrue(page.contains("Content-Security-Policy"), "the page states its policy");
    }

    /** The chart data that report.html holds for the figure whose PNG is {@code png}. */
    static com.fasterxml.jackson.databind.JsonNode chartSpec(Path out, String png) throws IOException {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"chart-\\d+\">(.*?)</script>").matcher(Files.readString(out.resolve("report.html")));
        while (m.find()) {
            com.fasterxml.jackson.databind.JsonNode spec = new com.fasterxml.jackson.databind.ObjectMapper().readTree(m.group(1));
            if (spec.path("png").asText().equals(png)) {
                return spec;
            }
        }
        throw new AssertionError("no chart for " + png + " in " + out.resolve("report.html"));
    }

    @Test
    void lnScaleRowsAreTheForwardPassScalesAndNeverBelowSqrtEps() throws IOException {
        Path out = tmp.resolve("ln");
        run("ln-scale", "--out", out.toString(), "--max-tokens", "12", "--quiet");
        assertReport(out, 4);
        for (String site : List.of("mlp_ln", "ln1", "ln2", "ln_final")) {
            assertPng(out.resolve("ln_scale_" + site + ".png"));
        }
        List<String> rows = Files.readAllLines(out.resolve("ln_scale_prompts.csv"));
        // 24 sentences + 11 repeat prompts (BOS + 1..11 words) + 11 random-word prefixes (2..12 tokens), 4 sites each
        assertEquals(1 + (24 + 11 + 11) * 4, rows.size());
        try (SoluModel model = DemoModel.load()) {
            CpuBackend backend = new CpuBackend(model);
            int[] tokens = PromptFamilies.repeat(model, "ice", 11, true).get(10).tokens();
            ForwardResult r = backend.run(tokens, List.of(Hooks.MLP_LN_SCALE));
            double[] s = r.get(Hooks.MLP_LN_SCALE).data();
            String expectedLast = String.format(java.util.Locale.ROOT, "%.9g", s[s.length - 1]);
            assertTrue(rows.stream().anyMatch(l -> l.startsWith("repeat,10,12,mlp.ln,") && l.split(",")[5].equals(expectedLast)), expectedLast);
        }
        for (String line : Files.readAllLines(out.resolve("ln_scale_positions.csv")).subList(1, 100)) {
            String[] f = line.split(",");
            if (f[4].equals("mlp.ln")) {
                assertTrue(Double.parseDouble(f[5]) >= Math.sqrt(1e-5), line);
            }
        }
    }

    @Test
    void ablateLowMarksTenPercentPerPositionAndReportsEveryPair() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("p.txt"), "the ice is cold\nwe saw a white bird on the tree\n");
        Path out = tmp.resolve("low");
        run("ablate-low", "--prompts", prompts.toString(), "--out", out.toString(), "--quiet");
        assertReport(out, 2);
        List<String> rows = Files.readAllLines(out.resolve("ablate_low.csv"));
        int positions = 4 + 8;   // (BOS + 4 words) - 1 and (BOS + 8 words) - 1
        assertEquals(1 + positions * 512, rows.size());
        assertEquals(positions * 51L, rows.stream().filter(l -> l.endsWith(",true")).count());
        assertPng(out.resolve("ablate_low_lowest.png"));
        assertPng(out.resolve("ablate_low_all.png"));
        assertTrue(Files.readString(out.resolve("ablate_low.md")).contains("| lowest 10% | " + positions * 51 + " |"));
    }

    @Test
    void smearRatioIsTheInverseMlpLayerNormScale() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("p.txt"), "the ice is cold and the water is warm\nthe sun is hot\nthe boy can run far\n");
        Path out = tmp.resolve("smear");
        String printed = run("smear", "--prompts", prompts.toString(), "--out", out.toString(), "--top", "3", "--quiet");
        assertReport(out, 2);
        assertTrue(printed.contains("p-value"), printed);
        List<String> rows = Files.readAllLines(out.resolve("smear.csv"));
        assertEquals(1 + 10 + 5 + 6, rows.size());
        try (SoluModel model = DemoModel.load()) {
            ForwardResult r = new CpuBackend(model).run(model.tokenize("the sun is hot", true), List.of(Hooks.MLP_LN_SCALE));
            String[] f = rows.get(1 + 10 + 2).split(",");
            assertEquals("1", f[0]);
            assertEquals(1 / r.get(Hooks.MLP_LN_SCALE).at(2), Double.parseDouble(f[8]), 1e-6 / r.get(Hooks.MLP_LN_SCALE).at(2));
            assertEquals("0.00000000", String.format(java.util.Locale.ROOT, "%.8f", Double.parseDouble(rows.get(1 + 10 + 4).split(",")[4])),
                    "the seed's mean-loss change is 0 at the last position");
        }
    }

    @Test
    void dlaFilesMatchTheBackendAndFlaggedPositionsFollowTheThresholds() throws IOException {
        Path out = tmp.resolve("dla");
        String printed = run("dla", "--prompts", Files.writeString(tmp.resolve("p.txt"), "the ice is cold and the water is warm\n").toString(),
                "--out", out.toString(), "--mlp-threshold", "0", "--neuron-fraction", "0.5", "--quiet");
        assertPng(out.resolve("mlp_dla_hist.png"));
        assertReport(out, 1);
        try (SoluModel model = DemoModel.load()) {
            CpuBackend backend = new CpuBackend(model);
            ForwardResult clean = backend.run(model.tokenize("the ice is cold and the water is warm", true), Hooks.ALL);
            DlaResult dla = backend.dla(clean, false);
            float[] mlp = Npy.read(out.resolve("mlp_dla.npy")).data();
            float[] neuron = Npy.read(out.resolve("neuron_dla.npy")).data();
            int flagged = 0;
            for (int p = 0; p < dla.positions(); p++) {
                assertEquals((float) dla.mlp()[p], mlp[p], 0);
                double top = Double.NEGATIVE_INFINITY;
                for (int n = 0; n < dla.dMlp(); n++) {
                    assertEquals((float) dla.neuron(p, n), neuron[p * dla.dMlp() + n], 0);
                    top = Math.max(top, dla.neuron(p, n));
                }
                flagged += dla.mlp()[p] >= 0 && top < 0.5 * dla.mlp()[p] ? 1 : 0;
            }
            long listed = Files.readAllLines(out.resolve("dla.csv")).stream().filter(l -> l.endsWith(",true")).count();
            assertEquals(flagged, listed);
            assertTrue(printed.contains(flagged == 0 ? "No position is flagged" : "| prompt | position |"), printed);
        }
    }

    @Test
    void paperReportLinksFiguresThatExist() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("p.txt"), "the ice is cold and the water is warm\nthe sun is hot and the snow is white\n");
        Path out = tmp.resolve("paper");
        run("paper", "--prompts", prompts.toString(), "--out", out.toString(), "--quiet");
        String report = Files.readString(out.resolve("report.md"));
        Matcher m = Pattern.compile("!\\[[^]]*]\\(([^)]+)\\)").matcher(report);
        int figures = 0;
        while (m.find()) {
            assertPng(out.resolve(m.group(1)));
            figures++;
        }
        assertEquals(18, figures, report);   // ln-scale 4 and its explanation 6, ablate-low 2, smear 2, dla 1, smearing 3
        assertReport(out, 18);
        assertTrue(report.contains("# Why the MLP LayerNorm's factor moves with prompt length"), report);
    }

    @Test
    void smearingRunsOnTheBundledPairAndStatesItsCriterionBeforeItsVerdict() throws IOException {
        Path out = tmp.resolve("smearing");
        Path prompts = Files.writeString(tmp.resolve("smearing-prompts.txt"), String.join("\n", PromptFamilies.defaultSentences().subList(0, 6)) + "\n");
        String printed = run("smearing", "--out", out.toString(), "--prompts", prompts.toString(), "--bootstrap", "200", "--quiet");
        assertReport(out, 3);
        assertTrue(printed.contains("1. Synergy") && printed.contains("3. GELU"), printed);
        for (String png : List.of("smearing_by_rank.png", "smearing_direct_vs_mlp_ln.png", "smearing_groups.png")) {
            assertPng(out.resolve(png));
        }
        String md = Files.readString(out.resolve("smearing.md"));
        assertTrue(md.indexOf("fixed before the numbers") < md.indexOf("| solu | mid | lowest"), md);
        assertTrue(Files.readString(out.resolve("groups_summary.csv")).contains("gelu,post,lowest"), "the GELU twin ran as the control");
        // the GELU twin cannot be the subject, and a bad fraction is refused before any model loads
        CliRunner.Outcome gelu = CliRunner.run("smearing", "--model", "demo-gelu", "--out", tmp.resolve("g").toString(), "--quiet");
        assertEquals(2, gelu.code(), gelu.err());
        assertTrue(gelu.err().contains("as the control"), gelu.err());
        CliRunner.Outcome bad = CliRunner.run("smearing", "--model", "target/no-such-model", "--fraction", "0", "--out", tmp.resolve("b").toString());
        assertTrue(bad.err().contains("--fraction must be in (0, 1]"), bad.err());
    }
}

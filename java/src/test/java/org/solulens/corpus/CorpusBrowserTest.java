package org.solulens.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.htmlunit.WebClient;
import org.htmlunit.html.HtmlAnchor;
import org.htmlunit.html.HtmlPage;
import org.htmlunit.html.HtmlTable;
import org.htmlunit.html.HtmlTableRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.solulens.backend.Ablation;
import org.solulens.backend.SweepMethod;
import org.solulens.cpu.CpuBackend;
import org.solulens.model.ActivationFunction;
import org.solulens.model.ModelConfig;
import org.solulens.model.SoluModel;
import org.solulens.testing.TestModels;

/** The static neuron browser in a headless browser: pages load without script errors, the table sorts, links resolve. */
class CorpusBrowserTest {
    @TempDir
    Path tmp;

    @Test
    void theNeuronBrowserLoadsSortsAndEveryLinkResolves() throws IOException {
        ModelConfig cfg = TestModels.config(16, 12, 2, 8, 12, 61, ActivationFunction.SOLU_LN);
        SoluModel model = TestModels.random(cfg, 41);
        Random r = new Random(41);
        StringBuilder b = new StringBuilder();
        for (int d = 0; d < 8; d++) {
            b.append("{\"tokens\": ").append(java.util.Arrays.toString(TestModels.randomTokens(r, 3 + r.nextInt(9), 61))).append("}\n");
        }
        Path data = Files.writeString(tmp.resolve("c.jsonl"), b.toString());
        CorpusSweep.Result result = CorpusSweep.run(new CpuBackend(model), data,
                new CorpusSweep.Settings(Ablation.zero(Ablation.Site.POST), SweepMethod.EXACT, 8, false, 0, 3, 0.05, 2, false), null, false, 60, true);
        Path out = Files.createDirectories(tmp.resolve("out"));
        CorpusReport.write(out, model, result, "solulens corpus (test)");

        try (WebClient browser = new WebClient()) {
            browser.getOptions().setThrowExceptionOnScriptError(true);
            browser.getOptions().setThrowExceptionOnFailingStatusCode(true);
            HtmlPage index = browser.getPage(out.resolve("index.html").toUri().toURL());
            HtmlTable table = index.getHtmlElementById("neurons");
            assertEquals(1 + 12, table.getRowCount(), "a header and one row per neuron");
            // sort by the first column (neuron id), then again (descending)
            index.getElementsByTagName("th").get(0).click();
            assertEquals(List.of("0", "1", "2"), firstCells(table, 3));
            index.getElementsByTagName("th").get(0).click();
            assertEquals(List.of("11", "10", "9"), firstCells(table, 3));
            // by mean |Δloss|: the values come out in order
            index.getElementsByTagName("th").get(1).click();
            List<Double> values = new ArrayList<>();
            for (int i = 1; i < table.getRowCount(); i++) {
                values.add(Double.parseDouble(table.getRow(i).getCell(1).asNormalizedText()));
            }
            for (int i = 1; i < values.size(); i++) {
                assertTrue(values.get(i - 1) <= values.get(i), "ascending after one click: " + values);
            }
            int pages = 0;
            for (HtmlAnchor link : index.getAnchors()) {
                HtmlPage neuron = link.click();
                assertTrue(neuron.getTitleText().startsWith("Neuron "), neuron.getTitleText());
                assertTrue(neuron.asNormalizedText().contains("Largest Δloss"), "a neuron page lists its contexts");
                HtmlPage back = neuron.getAnchors().get(0).click();
                assertEquals("SoluLens corpus sweep: neurons", back.getTitleText());
                pages++;
            }
            assertEquals(12, pages);
        }
    }

    private static List<String> firstCells(HtmlTable table, int n) {
        List<String> out = new ArrayList<>();
        for (HtmlTableRow row : table.getRows().subList(1, 1 + n)) {
            out.add(row.getCell(0).asNormalizedText());
        }
        return out;
    }
}

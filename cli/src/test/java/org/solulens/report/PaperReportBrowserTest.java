package org.solulens.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.solulens.cli.Main;

/** The demo model's {@code paper} report in headless Chromium: it loads offline and cleanly, draws every chart, and hovers name the points. */
class PaperReportBrowserTest {
    @TempDir
    static Path tmp;
    static Path out;
    static Browser browser;
    static List<String> requests;

    @BeforeAll
    static void writeReportAndOpenIt() {
        out = tmp.resolve("paper");
        int code = Main.execute(new java.io.PrintWriter(java.io.Writer.nullWriter()), new java.io.PrintWriter(System.err, true),
                "paper", "--out", out.toString(), "--quiet");
        assertEquals(0, code, "paper failed");
        browser = Browser.start();
        browser.open(out.resolve("report.html"));
        requests = browser.requests();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    void loadsWithNoConsoleErrorAndNoNetworkRequest() {
        assertEquals(List.of(), browser.consoleErrors(), "console errors while loading the report");
        List<String> resources = requests;
        for (String asset : List.of("report.html", "echarts.min.js", "report.js", "report.css")) {
            assertTrue(resources.stream().anyMatch(r -> r.endsWith("/" + asset)), "the page and its assets are requested from disk: " + resources);
        }
        for (String r : resources) {
            assertTrue(r.startsWith("file:"), "a request left the disk: " + r);
            assertTrue(Files.exists(Path.of(java.net.URI.create(r))), "requested a file that is not there: " + r);
        }
        String csp = (String) browser.script("return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content;");
        assertEquals(HtmlReport.CSP, csp);
    }

    @Test
    void thePageLinksItsSections() {
        @SuppressWarnings("unchecked")
        List<String> missing = (List<String>) browser.script("return Array.prototype.filter.call(document.querySelectorAll('nav.toc a'),"
                + " function (a) { return document.getElementById(a.getAttribute('href').substring(1)) === null; }).map(function (a) { return a.textContent; });");
        long links = (Long) browser.script("return document.querySelectorAll('nav.toc a').length;");
        assertTrue(links >= 6, "a link to each experiment's section: " + links);
        assertEquals(List.of(), missing, "links whose section is missing");
    }

    @Test
    void everyFigureIsAChartThatDrewItsPoints() {
        List<Map<String, Object>> charts = browser.list("""
                return Array.prototype.map.call(document.querySelectorAll('figure.chart'), function (f) {
                  var spec = JSON.parse(document.getElementById(f.getAttribute('data-spec')).textContent);
                  var chart = echarts.getInstanceByDom(f.querySelector('.plot'));
                  var drawn = chart.getModel().getSeries().filter(function (s) { return s.subType !== 'custom'; })
                      .map(function (s) { return s.getData().count(); });
                  var expected = spec.series.map(function (s) { return spec.kind === 'CATEGORY_BARS' ? spec.categories.length : s.x.length; });
                  return {png: spec.png, drawn: drawn, expected: expected, error: f.querySelector('.error') !== null};
                });""");
        assertEquals(18, charts.size(), "the paper report's 18 figures, each a chart: " + charts);
        for (Map<String, Object> c : charts) {
            assertEquals(Boolean.FALSE, c.get("error"), c.get("png") + " failed to draw");
            assertEquals(c.get("expected"), c.get("drawn"), c.get("png") + ": points drawn per series");
            long points = ((List<?>) c.get("drawn")).stream().mapToLong(n -> ((Number) n).longValue()).sum();
            assertTrue(points > 0, c.get("png") + " drew no points");
            assertTrue(Files.exists(out.resolve((String) c.get("png"))), "the PNG beside " + c.get("png"));
        }
    }

    @Test
    void hoveringTheLargestLowSetEffectShowsItsNeuronAndToken() throws IOException {
        // the point as ablate_low.csv gives it: the lowest-set pair with the largest |Δloss|
        String[] found = null;
        double largest = -1;
        List<String> lines = Files.readAllLines(out.resolve("ablate-low/ablate_low.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = CsvFields.split(line);   // prompt,position,token,target,neuron,mid,post,delta_loss,logit_cosine,in_low_set
            if (f[9].equals("true") && Math.abs(Double.parseDouble(f[7])) > largest) {
                largest = Math.abs(Double.parseDouble(f[7]));
                found = f;
            }
        }
        String[] best = found;
        WebElement plot = browser.figure("ablate-low/ablate_low_lowest.png").findElement(By.cssSelector(".plot"));
        String tip = browser.hover(plot, 0, Double.parseDouble(best[5]), Double.parseDouble(best[7]));
        List<String> rows = tip.lines().toList();
        assertEquals("lowest 10%", rows.get(0), "the hover names the series: " + tip);
        assertTrue(rows.contains("neuron=" + best[4]), "the hover names neuron " + best[4] + ": " + tip);
        assertTrue(rows.contains("token=" + best[2]), "the hover names the token '" + best[2] + "': " + tip);
        assertTrue(rows.contains("next token=" + best[3]), "the hover names the next token '" + best[3] + "': " + tip);
        assertTrue(rows.contains("position=" + best[1]), "the hover names position " + best[1] + ": " + tip);
        assertTrue(rows.stream().anyMatch(r -> r.startsWith("prompt=" + best[0] + ": ")), "the hover names prompt " + best[0] + ": " + tip);
    }

    @Test
    void hoveringThePairFurthestFromTheClusterNamesItAsTheArraysDo() throws IOException {
        // smearing's own files: positions.csv (row -> prompt, position, token, target) and the parts' [row, neuron] arrays
        org.solulens.io.Npy.Array direct = org.solulens.io.Npy.read(out.resolve("smearing/solu_direct.npy"));
        float[] viaLn = org.solulens.io.Npy.read(out.resolve("smearing/solu_via_mlp_ln.npy")).data();
        int neurons = direct.shape()[1], best = 0;
        for (int k = 1; k < viaLn.length; k++) {
            best = Math.abs(viaLn[k]) > Math.abs(viaLn[best]) ? k : best;
        }
        int row = best / neurons, neuron = best % neurons;
        List<String[]> rows = Files.readAllLines(out.resolve("smearing/positions.csv")).stream().skip(1).map(CsvFields::split)
                .filter(f -> f[0].equals("solu")).toList();   // model,row,prompt,position,token,target
        String[] where = rows.get(row);
        WebElement figure = browser.figure("smearing/smearing_direct_vs_mlp_ln.png");
        // drawn in one of two series: the lowest decile, or the others
        String tip = null;
        for (int series = 0; series < 2 && tip == null; series++) {
            String t = browser.hover(figure.findElement(By.cssSelector(".plot")), series, direct.data()[best], viaLn[best]);
            tip = t.lines().anyMatch(l -> l.equals("neuron=" + neuron)) ? t : null;
        }
        assertTrue(tip != null, "a hover over the largest |via MLP LN| names neuron " + neuron);
        List<String> lines = tip.lines().toList();
        assertTrue(lines.contains("position=" + where[3]) && lines.contains("token=" + where[4]) && lines.contains("next token=" + where[5])
                && lines.stream().anyMatch(l -> l.startsWith("prompt=" + where[2] + ": ")), tip + " vs " + String.join(",", where));
        // the README's picture of the report: this hover
        Path shots = Path.of("target", "report-screenshots");
        Files.createDirectories(shots);
        Files.write(shots.resolve("smearing-hover.png"), figure.getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
    }

    @Test
    void theLayerNormFigureOffersTheFactorAndDrawsSentencesAsPoints() {
        WebElement figure = browser.figure("ln-scale/ln_scale_mlp_ln.png");
        WebElement toggle = figure.findElement(By.cssSelector("input[data-toggle=alternative]"));
        Object before = browser.script("return echarts.getInstanceByDom(arguments[0].querySelector('.plot')).getOption().yAxis[0].name;", figure);
        toggle.click();
        Object after = browser.script("return echarts.getInstanceByDom(arguments[0].querySelector('.plot')).getOption().yAxis[0].name;", figure);
        assertEquals("scale = sqrt(var + eps)", before);
        assertEquals("factor 1/scale (mean over positions)", after);
        @SuppressWarnings("unchecked")
        List<String> types = (List<String>) browser.script("return echarts.getInstanceByDom(arguments[0].querySelector('.plot')).getOption().series"
                + ".map(function (s) { return s.name + ':' + s.type; });", figure);
        assertEquals(List.of("sentences:scatter", "repeat:line", "random-words:line"), types);
        assertEquals(List.of(), browser.consoleErrors());
    }

    @Test
    void theGroupComparisonIsBarsWithIntervals() {
        WebElement figure = browser.figure("smearing/smearing_groups.png");
        @SuppressWarnings("unchecked")
        List<String> types = (List<String>) browser.script("return echarts.getInstanceByDom(arguments[0].querySelector('.plot')).getOption().series"
                + ".map(function (s) { return s.type; });", figure);
        assertTrue(types.contains("bar") && types.contains("custom"), "bars and their error bars: " + types);
        WebElement symlog = browser.figure("smearing/smearing_direct_vs_mlp_ln.png").findElement(By.cssSelector("input[data-toggle=symlogY]"));
        symlog.click();
        assertEquals(List.of(), browser.consoleErrors());
    }
}
